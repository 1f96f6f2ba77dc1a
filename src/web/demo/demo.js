// The customer demo: a chat on a chosen service through the public GMS API only, as a GMS app would:
// CometD (handshake with ext.gms_user, subscribe /_genesys, notify_by=comet), polling if push is unavailable.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  // getRandomValues works on plain-http pages too, where crypto.randomUUID does not exist.
  const gmsUser = 'demo-' + Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  let serviceId = null;
  let shown = 0; // the last transcript position shown
  let ended = false;
  let faye = null;
  let poller = null;
  let myName = '';
  let typingSent = false;
  let typingTimer = null;

  async function gms(path, params) {
    const res = await fetch('/genesys/1/service/' + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', gms_user: gmsUser },
      body: new URLSearchParams(params || {}),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.message || 'The request failed (' + res.status + ').');
    return data;
  }

  const chat = (action, params) => gms(serviceId + '/ixn/chat' + (action ? '/' + action : ''), params);

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children || []) node.append(child);
    return node;
  }

  /** A chat response: its events are the last ones up to transcriptPosition, each shown once. */
  function show(response) {
    const last = Number(response.transcriptPosition);
    const events = response.transcriptToShow || [];
    events.forEach((e, i) => {
      const position = last - events.length + 1 + i;
      if (position <= shown) return;
      shown = position;
      render(e);
    });
    $('transcript').scrollTop = $('transcript').scrollHeight;
    if (response.chatIxnState === 'DISCONNECTED') finish();
  }

  function render([type, nickname, text, , party]) {
    const mine = party === 'CLIENT';
    if (type === 'Notice.TypingStarted' || type === 'Notice.TypingStopped') {
      if (!mine) $('typing').textContent = type === 'Notice.TypingStarted' ? nickname + ' is typing…' : '';
      return;
    }
    let item;
    if (type === 'Message.Text') {
      item = el('li', { className: mine ? 'mine' : '' }, [el('span', { className: 'who', textContent: mine ? 'You' : nickname }), text]);
      if (!mine) $('typing').textContent = '';
    } else if (type === 'Notice.PushUrl') {
      const link = el('a', { textContent: text, rel: 'noopener noreferrer', target: '_blank' });
      if (/^https?:\/\//i.test(text)) link.href = text;
      item = el('li', { className: 'notice' }, [nickname + ' sent a link: ', link]);
    } else if (type === 'Notice.Custom') {
      item = el('li', { className: 'notice', textContent: nickname + ': ' + text });
    } else {
      item = el('li', { className: 'notice', textContent: (mine ? 'You' : nickname) + ' ' + text.replace('has', mine ? 'have' : 'has') });
      if (type === 'Notice.Joined' && party === 'AGENT') $('status').textContent = 'You are chatting with ' + nickname + '.';
    }
    $('transcript').append(item);
  }

  function finish() {
    if (ended) return;
    ended = true;
    $('status').textContent = 'The chat has ended.';
    $('compose').hidden = true;
    $('end').hidden = true;
    $('again').hidden = false;
    $('typing').textContent = '';
    clearInterval(poller);
    if (faye) faye.disconnect();
    $('status').focus();
  }

  function subscribe() {
    if (!window.Faye) return Promise.resolve(false);
    faye = new window.Faye.Client('/genesys/cometd');
    faye.addExtension({
      outgoing(message, callback) {
        if (message.channel === '/meta/handshake') message.ext = Object.assign({}, message.ext, { gms_user: gmsUser });
        callback(message);
      },
    });
    return new Promise((resolve) => {
      faye.subscribe('/_genesys', (push) => push && push.message && show(push.message)).then(() => resolve(true), () => resolve(false));
    });
  }

  $('start').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('start-error').textContent = '';
    myName = $('name').value.trim();
    try {
      const comet = await subscribe();
      const session = await gms(encodeURIComponent($('service').value.trim()), {});
      serviceId = session._id;
      const params = { userDisplayName: myName, notify_by: comet ? 'comet' : 'poll' };
      if ($('subject').value.trim()) params.subject = $('subject').value.trim();
      $('start').hidden = true;
      $('chat').hidden = false;
      show(await chat('', params));
      if (!comet) poller = setInterval(() => chat('refresh').then(show, () => undefined), 1500);
      $('message').focus();
    } catch (err) {
      if (faye) faye.disconnect();
      $('start').hidden = false;
      $('chat').hidden = true;
      $('start-error').textContent = err.message;
    }
  });

  $('compose').addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = $('message').value;
    if (!text.trim()) return;
    clearTimeout(typingTimer);
    typingSent = false;
    try {
      show(await chat('send', { message: text }));
      $('message').value = '';
      $('chat-error').textContent = '';
    } catch (err) {
      $('chat-error').textContent = err.message;
    }
    $('message').focus();
  });

  $('message').addEventListener('input', () => {
    if (!typingSent) {
      typingSent = true;
      chat('startTyping').then(show, () => undefined);
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      typingSent = false;
      chat('stopTyping').then(show, () => undefined);
    }, 3000);
  });

  $('end').addEventListener('click', async () => {
    try {
      show(await chat('disconnect'));
    } catch (err) {
      $('chat-error').textContent = err.message;
    }
  });

  $('again').addEventListener('click', () => location.reload());
})();
