// The customer chat widget: a chat on one service through the public GMS API only, as a GMS app would:
// CometD (handshake with ext.gms_user, subscribe /_genesys, notify_by=comet), polling if push is unavailable.
// The chat is kept in the browser's storage, so a reload (or a new tab) picks it up where it was.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const widget = document.querySelector('.widget');
  const service = new URLSearchParams(location.search).get('service') || widget.dataset.service;
  const CHAT_KEY = 'chat-widget:chat:' + service;
  const USER_KEY = 'chat-widget:user';
  /** Seconds between reconnection attempts: short, so the banner clears soon after the service is back. */
  const RETRY_S = 1;
  const TITLE = document.title;

  // One random, unguessable id per browser, as GMS apps keep one per install. getRandomValues works on
  // plain-http pages too, where crypto.randomUUID does not exist.
  const gmsUser =
    stored(USER_KEY) ||
    'web-' + Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  keep(USER_KEY, gmsUser);

  let serviceId = null;
  let startedAt = null; // ms since the epoch, for message times
  let lastPosition = 0;
  let lastTypingPosition = 0;
  const positions = new Set();
  let ended = false;
  let faye = null;
  let poller = null;
  let maxLength = 4096;
  let typingSent = false;
  let typingTimer = null;
  let pushDown = false;
  let requestDown = false;
  let unseen = 0;

  function stored(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null; // storage blocked (private mode, settings): the chat just does not survive a reload
    }
  }
  function keep(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch {
      // as above
    }
  }

  /** A failed call: `offline` when the gateway could not be reached at all. */
  class CallError extends Error {
    constructor(message, status, exception) {
      super(message);
      this.status = status;
      this.exception = exception;
    }
  }

  async function gms(path, params) {
    let res;
    try {
      res = await fetch('/genesys/1/service/' + path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', gms_user: gmsUser },
        body: new URLSearchParams(params || {}),
      });
    } catch {
      setRequestDown(true);
      throw new CallError('We cannot reach the chat right now. Please check your connection and try again.', 0, 'offline');
    }
    setRequestDown(false);
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new CallError(data.message || 'The request failed.', res.status, data.exception);
    return data;
  }

  const chat = (action, params) => gms(serviceId + '/ixn/chat' + (action ? '/' + action : ''), params);

  // ---- the connection banner ----

  function setPushDown(down) {
    pushDown = down;
    banner();
  }
  function setRequestDown(down) {
    requestDown = down;
    banner();
  }
  function banner() {
    $('offline').hidden = !(pushDown || requestDown);
  }

  // ---- the transcript ----

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children || []) node.append(child);
    return node;
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  /** A chat response: its events are the last ones up to transcriptPosition, each shown once, in order. */
  function show(response) {
    if (response.startedAt && startedAt === null) startedAt = Date.parse(response.startedAt);
    const last = Number(response.transcriptPosition);
    const events = response.transcriptToShow || [];
    // An agent leaving and another joining in one update is a transfer: one line, as GMS web clients show it.
    const agent = (e) => e && (e[4] === 'AGENT' || e[4] === 'SUPERVISOR');
    const handedOver = (i) =>
      agent(events[i]) && events[i][0] === 'Notice.Left' && agent(events[i + 1]) && events[i + 1][0] === 'Notice.Joined';
    events.forEach((e, i) => {
      if (handedOver(i)) {
        positions.add(last - events.length + 1 + i);
        $('typing').textContent = '';
        return;
      }
      add(last - events.length + 1 + i, e, handedOver(i - 1) ? events[i - 1][1] : undefined);
    });
    if (response.chatIxnState === 'DISCONNECTED') finish();
  }

  /** `from`: for a Notice.Joined of a transfer, the agent who handed over. */
  function add(position, [type, nickname, text, seconds, party], from) {
    if (positions.has(position)) return;
    positions.add(position);
    lastPosition = Math.max(lastPosition, position);
    const mine = party === 'CLIENT';
    if (type === 'Notice.TypingStarted' || type === 'Notice.TypingStopped') {
      if (!mine && position > lastTypingPosition) {
        lastTypingPosition = position;
        $('typing').textContent = type === 'Notice.TypingStarted' ? nickname + ' is typing…' : '';
      }
      return;
    }
    const at = startedAt === null ? null : startedAt + Number(seconds) * 1000;
    const item = render(type, nickname, text, mine, at, from);
    if (!item) return;
    item.dataset.position = String(position);
    const list = $('transcript');
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const after = Array.from(list.children).find((li) => Number(li.dataset.position) > position);
    list.insertBefore(item, after || null);
    if (nearBottom || mine) list.scrollTop = list.scrollHeight;
    if (!mine && type === 'Message.Text' && document.hidden) {
      unseen += 1;
      document.title = '(' + unseen + ') New message · ' + TITLE;
    }
  }

  function render(type, nickname, text, mine, at, from) {
    const time =
      at === null ? [] : [el('time', { className: 'time', dateTime: new Date(at).toISOString(), textContent: clock(at) })];
    if (type === 'Message.Text') {
      if (!mine) $('typing').textContent = '';
      const who = el('span', { className: 'who', textContent: mine ? 'You' : nickname });
      return el('li', { className: 'message ' + (mine ? 'mine' : 'theirs') }, [
        who,
        el('p', { className: 'text', textContent: text }),
        ...time,
      ]);
    }
    if (type === 'Notice.PushUrl') {
      const link = el('a', { textContent: text, rel: 'noopener noreferrer', target: '_blank' });
      if (/^https?:\/\//i.test(text)) link.href = text;
      return el('li', { className: 'message theirs link' }, [
        el('span', { className: 'who', textContent: nickname }),
        el('p', { className: 'text' }, ['Shared a link: ', link]),
        ...time,
      ]);
    }
    const words = noticeWords(type, nickname, text, mine, from);
    if (!words) return null;
    return el('li', { className: 'notice' }, [words, ...(at === null ? [] : [' · ', time[0]])]);
  }

  /** What a customer reads for a notice: plain words, never the protocol's names. */
  function noticeWords(type, nickname, text, mine, from) {
    if (type === 'Notice.Joined') {
      if (mine) return 'Chat started';
      $('status').textContent = 'You are chatting with ' + nickname + '.';
      return from ? from + ' passed you to ' + nickname : nickname + ' joined the chat';
    }
    if (type === 'Notice.Left') {
      if (mine) return 'You ended the chat';
      $('typing').textContent = '';
      if (!ended) $('status').textContent = 'Waiting for someone to join…';
      return nickname + ' left the chat';
    }
    if (type === 'Notice.Custom') return text;
    return null; // a kind of event this page does not know: nothing technical is shown
  }

  function finish() {
    if (ended) return;
    ended = true;
    keep(CHAT_KEY, null);
    $('status').textContent = 'The chat has ended.';
    $('compose').hidden = true;
    $('counter').hidden = true;
    $('end').hidden = true;
    $('ended').hidden = false;
    $('typing').textContent = '';
    clearInterval(poller);
    clearTimeout(typingTimer);
    if (faye) faye.disconnect();
    faye = null;
    setPushDown(false);
    $('again').focus();
  }

  // ---- push, or polling without it ----

  function subscribe() {
    if (!window.Faye) return Promise.resolve(false);
    faye = new window.Faye.Client('/genesys/cometd', { retry: RETRY_S });
    faye.addExtension({
      outgoing(message, callback) {
        if (message.channel === '/meta/handshake') message.ext = Object.assign({}, message.ext, { gms_user: gmsUser });
        callback(message);
      },
    });
    // A client that was let go (the chat ended) reports its own disconnection: that is no lost connection.
    const client = faye;
    faye.on('transport:down', () => client === faye && setPushDown(true));
    faye.on('transport:up', () => {
      if (client !== faye || !pushDown) return;
      setPushDown(false);
      // What happened while the connection was down was not pushed: fetch it.
      if (serviceId && !ended) catchUp();
    });
    return new Promise((resolve) => {
      faye
        .subscribe('/_genesys', (push) => push && push.message && show(push.message))
        .then(
          () => resolve(true),
          () => resolve(false),
        );
    });
  }

  function catchUp() {
    return chat('refresh', { transcriptPosition: String(lastPosition) }).then(show, (err) => {
      if (err.exception === 'SessionNotFound' || err.exception === 'ChatEnded') finish();
    });
  }

  function startPolling() {
    poller = setInterval(catchUp, 1500);
  }

  // ---- starting, resuming, ending ----

  function showChatPane() {
    $('start').hidden = true;
    $('chat').hidden = false;
    $('end').hidden = false;
  }

  function showStart() {
    $('chat').hidden = true;
    $('end').hidden = true;
    $('start').hidden = false;
  }

  $('start').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('start-error').textContent = '';
    const name = $('name').value.trim();
    if (!name) {
      $('start-error').textContent = 'Please tell us your name.';
      $('name').focus();
      return;
    }
    const button = $('start').querySelector('button');
    button.disabled = true;
    try {
      const comet = await subscribe();
      const session = await gms(encodeURIComponent(service), {});
      serviceId = session._id;
      const params = { userDisplayName: name, notify_by: comet ? 'comet' : 'poll' };
      if ($('subject').value.trim()) params.subject = $('subject').value.trim();
      const started = await chat('', params);
      keep(CHAT_KEY, JSON.stringify({ serviceId }));
      showChatPane();
      $('status').textContent = 'Waiting for someone to join…';
      show(started);
      if (!comet) startPolling();
      $('message').focus();
    } catch (err) {
      if (faye) faye.disconnect();
      faye = null;
      setPushDown(false);
      $('start-error').textContent =
        err.status === 503
          ? 'Chat is not available right now. Please try again later.'
          : err.exception === 'offline'
            ? err.message
            : 'We could not start the chat. Please try again.';
    } finally {
      button.disabled = false;
    }
  });

  async function resume(saved) {
    serviceId = saved.serviceId;
    showChatPane();
    $('status').textContent = 'Reconnecting to your chat…';
    const comet = await subscribe();
    try {
      show(await chat('refresh', { transcriptPosition: '0' }));
    } catch (err) {
      if (err.exception === 'offline') {
        // Not reachable now: the banner says so and the reconnection (push or polling) fetches the chat later.
        if (!comet) startPolling();
        return;
      }
      // The chat is gone (expired, or ended with 400 answers): start afresh.
      if (faye) faye.disconnect();
      faye = null;
      keep(CHAT_KEY, null);
      showStart();
      return;
    }
    if (!ended && $('status').textContent === 'Reconnecting to your chat…')
      $('status').textContent = 'Waiting for someone to join…';
    if (!ended && !comet) startPolling();
    if (!ended) $('message').focus();
  }

  // ---- writing ----

  function count() {
    const length = [...$('message').value].length;
    const over = length - maxLength;
    const counter = $('counter');
    counter.classList.toggle('over', over > 0);
    if (over > 0) counter.textContent = over + (over === 1 ? ' character' : ' characters') + ' too long';
    else counter.textContent = length >= maxLength * 0.8 ? length + ' / ' + maxLength : '';
    $('message').setAttribute('aria-invalid', over > 0 ? 'true' : 'false');
    $('compose').querySelector('.send').disabled = over > 0;
    return over <= 0;
  }

  function grow() {
    const box = $('message');
    box.style.height = 'auto';
    box.style.height = Math.min(box.scrollHeight + 2, 160) + 'px';
  }

  async function send() {
    const text = $('message').value;
    if (!text.trim() || !count()) return;
    clearTimeout(typingTimer);
    typingSent = false;
    try {
      show(await chat('send', { message: text }));
      $('message').value = '';
      $('chat-error').textContent = '';
      count();
      grow();
    } catch (err) {
      if (err.exception === 'ChatEnded' || err.exception === 'SessionNotFound') return finish();
      $('chat-error').textContent =
        err.exception === 'offline'
          ? 'Not sent: no connection. Your message is kept; send it again when we are back.'
          : err.status === 429
            ? 'You are sending messages very fast. Please wait a moment.'
            : 'Your message could not be sent. Please try again.';
    }
    $('message').focus();
  }

  $('compose').addEventListener('submit', (e) => {
    e.preventDefault();
    send();
  });

  $('message').addEventListener('keydown', (e) => {
    // Enter sends, Shift+Enter starts a new line, as in every chat app.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });

  $('message').addEventListener('input', () => {
    count();
    grow();
    if (!serviceId || ended) return;
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

  $('end').addEventListener('click', () => $('confirm-end').showModal());
  $('confirm-end').addEventListener('close', async () => {
    if ($('confirm-end').returnValue !== 'end') return $('message').focus();
    try {
      show(await chat('disconnect'));
      finish();
    } catch (err) {
      if (err.exception === 'ChatEnded' || err.exception === 'SessionNotFound') return finish();
      $('chat-error').textContent = err.exception === 'offline' ? err.message : 'The chat could not be ended. Please try again.';
    }
  });

  $('again').addEventListener('click', () => location.reload());

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    unseen = 0;
    document.title = TITLE;
  });

  // ---- on load ----

  fetch('/demo/service/' + encodeURIComponent(service))
    .then((res) => (res.ok ? res.json() : null))
    .then(
      (settings) => {
        if (!settings) return;
        maxLength = settings.maxMessageLength;
        count();
      },
      () => undefined,
    );

  let saved;
  try {
    saved = JSON.parse(stored(CHAT_KEY) || 'null');
  } catch {
    saved = null;
  }
  if (saved && saved.serviceId) resume(saved);
  else showStart();
})();
