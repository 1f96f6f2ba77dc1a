// The Chat API Version 2 demo: the calls Genesys Widgets' WebChat makes, in its order: request chat with
// the registration form and userData[...], refresh every 2 s from nextPosition, send, typing, files
// (limits, upload, download links), disconnect. Every call carries userId, secureKey and alias.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  let base = null; // /genesys/2/chat/<service>
  let chat = null; // { chatId, userId, secureKey, alias }
  let next = 1; // WebChat's transcriptPosition: the index of the next message
  let ended = false;
  let poller = null;
  let typingSent = false;
  let typingTimer = null;

  async function post(path, params, body) {
    const res = await fetch(
      path,
      body
        ? { method: 'POST', body }
        : {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(params || {}),
          },
    );
    const data = await res.json().catch(() => ({}));
    if (data.statusCode !== 0)
      throw new Error((data.errors && data.errors[0] && data.errors[0].advice) || 'The request failed (' + res.status + ').');
    return data;
  }

  const credentials = () => ({ userId: chat.userId, secureKey: chat.secureKey, alias: chat.alias });
  const call = (action, params) => post(base + '/' + chat.chatId + '/' + action, Object.assign(credentials(), params));

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children || []) node.append(child);
    return node;
  }

  /** An answer's messages, each shown once (by index), then the position moves on. */
  function show(answer) {
    for (const m of answer.messages || []) {
      if (m.index < next) continue;
      next = m.index + 1;
      render(m);
    }
    if (answer.nextPosition > next) next = answer.nextPosition;
    $('transcript').scrollTop = $('transcript').scrollHeight;
    if (answer.chatEnded) finish();
  }

  function render(m) {
    const mine = m.from.type === 'Client';
    const who = mine ? 'You' : m.from.nickname;
    if (m.type === 'TypingStarted' || m.type === 'TypingStopped') {
      if (!mine) $('typing').textContent = m.type === 'TypingStarted' ? m.from.nickname + ' is typing…' : '';
      return;
    }
    let item;
    if (m.type === 'Message') {
      item = el('li', { className: 'message ' + (mine ? 'mine' : 'theirs') }, [
        el('span', { className: 'who', textContent: who }),
        el('p', { className: 'text', textContent: m.text }),
      ]);
      if (!mine) $('typing').textContent = '';
    } else if (m.type === 'PushUrl') {
      const link = el('a', { textContent: m.text, rel: 'noopener noreferrer', target: '_blank' });
      if (/^https?:\/\//i.test(m.text)) link.href = m.text;
      item = el('li', { className: 'notice' }, [who + ' sent a link: ', link]);
    } else if (m.type === 'FileUploaded') {
      const data = m.userData || {};
      const link = el('a', { textContent: data['file-name'], download: data['file-name'] });
      link.href =
        base +
        '/' +
        chat.chatId +
        '/file/' +
        encodeURIComponent(data['file-id']) +
        '/download?' +
        new URLSearchParams(credentials());
      item = el('li', { className: 'notice' }, [who + ' sent a file: ', link]);
    } else if (m.type === 'FileDeleted') {
      item = el('li', { className: 'notice', textContent: who + ' deleted a file.' });
    } else if (m.type === 'CustomNotice') {
      item = el('li', { className: 'notice', textContent: m.from.nickname + ': ' + (m.text || '') });
    } else if (m.type === 'ParticipantJoined' || m.type === 'ParticipantLeft') {
      const joined = m.type === 'ParticipantJoined';
      item = el('li', {
        className: 'notice',
        textContent: who + (mine ? (joined ? ' have joined' : ' have left') : joined ? ' has joined' : ' has left') + ' the chat',
      });
      if (!mine && joined) {
        $('status').textContent = 'You are chatting with ' + m.from.nickname + '.';
        limits();
      }
    } else {
      return;
    }
    $('transcript').append(item);
  }

  /** WebChat asks for the file limits once an agent is in; the file picker shows when files are allowed. */
  async function limits() {
    try {
      const answer = await call('file/limits');
      const l = answer.messages[0].userData;
      const allowed = Number(l['upload-max-files']) > Number(l['used-upload-max-files']);
      $('files').hidden = !allowed;
      $('file-types').textContent = '(' + l['upload-file-types'].split(':').join(', ') + ')';
      $('file').accept = l['upload-file-types']
        .split(':')
        .map((t) => '.' + t)
        .join(',');
    } catch {
      $('files').hidden = true;
    }
  }

  function finish() {
    if (ended) return;
    ended = true;
    $('status').textContent = 'The chat has ended.';
    $('compose').hidden = true;
    $('files').hidden = true;
    $('end').hidden = true;
    $('ended').hidden = false;
    $('typing').textContent = '';
    clearInterval(poller);
    $('status').focus();
  }

  const refresh = () => call('refresh', { transcriptPosition: String(next), message: '' }).then(show, () => undefined);

  $('start').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('start-error').textContent = '';
    base = '/genesys/2/chat/' + encodeURIComponent($('service').value.trim());
    const first = $('firstname').value.trim();
    const last = $('lastname').value.trim();
    const form = {
      nickname: first,
      firstName: first,
      lastName: last,
      emailAddress: $('email').value.trim(),
      subject: $('subject').value.trim(),
      'userData[_genesys_source]': 'web',
      'userData[_genesys_url]': location.href,
      'userData[_genesys_pageTitle]': document.title,
      'userData[_genesys_widgets]': 'gateway-demo',
    };
    try {
      const answer = await post(base, form);
      chat = { chatId: answer.chatId, userId: answer.userId, secureKey: answer.secureKey, alias: answer.alias };
      $('start').hidden = true;
      $('chat').hidden = false;
      $('end').hidden = false;
      $('status').textContent = 'Waiting for an agent…';
      show(answer);
      poller = setInterval(refresh, 2000);
      $('message').focus();
    } catch (err) {
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
      show(await call('send', { message: text, messageType: 'text', transcriptPosition: String(next) }));
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
      call('startTyping', { transcriptPosition: String(next) }).then(show, () => undefined);
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      typingSent = false;
      call('stopTyping', { transcriptPosition: String(next) }).then(show, () => undefined);
    }, 3000);
  });

  $('file').addEventListener('change', async () => {
    const file = $('file').files[0];
    if (!file) return;
    const body = new FormData();
    for (const [k, v] of Object.entries(credentials())) body.append(k, v);
    body.append('transcriptPosition', String(next));
    body.append('file', file);
    try {
      show(await post(base + '/' + chat.chatId + '/file', null, body));
      $('chat-error').textContent = '';
    } catch (err) {
      $('chat-error').textContent = err.message;
    }
    $('file').value = '';
    limits();
  });

  $('end').addEventListener('click', async () => {
    try {
      show(await call('disconnect', { transcriptPosition: String(next) }));
    } catch (err) {
      $('chat-error').textContent = err.message;
    }
  });

  $('again').addEventListener('click', () => location.reload());
})();
