// The agent console: sign in with a token, see the waiting queue, accept, chat and leave, through the
// agent API (/agent/v1) and the agent's CometD channel /agent/{id} (polling when push is unavailable).
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const API = '/agent/v1';
  let token = sessionStorage.getItem('agentToken') || '';
  let me = null;
  let current = null; // the chatSessionId open on the right
  let shown = 0; // the last transcript position shown
  let faye = null;
  let poller = null;
  let typingSent = false;
  let typingTimer = null;

  async function api(method, path, body) {
    const init = { method, headers: { Authorization: 'Bearer ' + token } };
    if (body) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(API + path, init);
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(data.message || 'The request failed (' + res.status + ').');
      err.status = res.status;
      throw err;
    }
    return data;
  }

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children || []) node.append(child);
    return node;
  }

  function since(iso) {
    const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min';
  }

  // ---- signing in ----

  $('sign-in').addEventListener('submit', async (e) => {
    e.preventDefault();
    token = $('token').value.trim();
    await signIn();
  });

  $('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem('agentToken');
    location.reload();
  });

  async function signIn() {
    $('sign-in-error').textContent = '';
    try {
      me = await api('GET', '/me');
    } catch (err) {
      $('sign-in-error').textContent = err.status === 401 ? 'This token is not valid.' : err.message;
      $('token').focus();
      return;
    }
    sessionStorage.setItem('agentToken', token);
    $('token').value = '';
    $('sign-in').hidden = true;
    $('desk').hidden = false;
    $('who').hidden = false;
    $('who-name').textContent = 'Signed in as ' + me.nickname;
    listen();
    await refreshLists();
    $('queue-title').focus();
  }

  // ---- queue and my chats ----

  async function refreshLists() {
    const [waiting, mine] = await Promise.all([api('GET', '/chats?state=waiting'), api('GET', '/chats?state=mine')]);
    renderQueue(waiting.chats);
    renderMine(mine.chats);
  }

  function renderQueue(chats) {
    $('queue-count').textContent = String(chats.length);
    $('queue-empty').hidden = chats.length > 0;
    $('queue').replaceChildren(
      ...chats.map((c) => {
        const accept = el('button', { type: 'button', textContent: 'Accept' });
        accept.setAttribute('aria-label', 'Accept the chat with ' + c.nickname);
        accept.addEventListener('click', () => acceptChat(c.chatSessionId));
        const label = el('div', {}, [
          el('strong', { textContent: c.nickname }),
          el('div', { className: 'meta', textContent: [c.subject, c.service, 'waiting ' + since(c.waitingSince)].filter(Boolean).join(' · ') }),
        ]);
        return el('li', {}, [label, accept]);
      }),
    );
  }

  function renderMine(chats) {
    $('mine-empty').hidden = chats.length > 0;
    $('mine').replaceChildren(
      ...chats.map((c) => {
        const open = el('button', { type: 'button', className: 'link', textContent: c.customer.nickname });
        open.setAttribute('aria-label', 'Open the chat with ' + c.customer.nickname);
        open.addEventListener('click', () => openChat(c.chatSessionId));
        const item = el('li', { className: c.chatSessionId === current ? 'current' : '' }, [
          open,
          el('span', { className: 'meta', textContent: c.state === 'ended' ? 'ended' : 'live' }),
        ]);
        return item;
      }),
    );
  }

  async function acceptChat(id) {
    try {
      await api('POST', '/chats/' + id + '/accept');
    } catch (err) {
      $('chat-error').textContent = err.status === 409 ? 'Another agent took this chat.' : err.message;
      await refreshLists();
      return;
    }
    await openChat(id);
    await refreshLists();
  }

  // ---- the open chat ----

  async function openChat(id) {
    current = id;
    shown = 0;
    $('transcript').replaceChildren();
    $('typing').textContent = '';
    $('chat-error').textContent = '';
    const chat = await api('GET', '/chats/' + id);
    $('chat-title').textContent = 'Chat with ' + chat.customer.nickname;
    showChat(chat);
    $('message').focus();
    await refreshLists();
  }

  function showChat(chat) {
    addEvents(chat.events);
    setState(chat.state);
  }

  function setState(state) {
    const ended = state === 'ended';
    $('chat-state').textContent = ended ? 'This chat has ended.' : state === 'connected' ? 'Connected' : 'Waiting';
    $('compose').hidden = ended;
    $('more').hidden = ended;
    $('leave').hidden = false;
    $('leave').textContent = ended ? 'Close chat' : 'Leave chat';
  }

  function addEvents(events) {
    for (const e of events) {
      if (e.position <= shown) continue;
      shown = e.position;
      if (e.type === 'Notice.TypingStarted' || e.type === 'Notice.TypingStopped') {
        // The customer's typing is a passing state, not a line of the transcript.
        if (e.partyType === 'CLIENT') $('typing').textContent = e.type === 'Notice.TypingStarted' ? e.nickname + ' is typing…' : '';
        continue;
      }
      if (e.type === 'Message.Text' && e.partyType === 'CLIENT') $('typing').textContent = '';
      $('transcript').append(renderEvent(e));
    }
    $('transcript').scrollTop = $('transcript').scrollHeight;
  }

  function renderEvent(e) {
    if (e.type === 'Message.Text') {
      return el('li', { className: e.partyType }, [el('span', { className: 'who', textContent: e.nickname }), e.text]);
    }
    if (e.type === 'Notice.PushUrl') {
      const link = el('a', { textContent: e.text, rel: 'noopener noreferrer', target: '_blank' });
      if (/^https?:\/\//i.test(e.text)) link.href = e.text;
      return el('li', { className: 'notice' }, [e.nickname + ' sent a link: ', link]);
    }
    if (e.type === 'Notice.Custom') return el('li', { className: 'notice', textContent: e.nickname + ': ' + e.text });
    return el('li', { className: 'notice', textContent: e.nickname + ' ' + e.text });
  }

  async function act(path, body) {
    $('chat-error').textContent = '';
    try {
      const chat = await api('POST', '/chats/' + current + path, body);
      showChat(chat);
      return chat;
    } catch (err) {
      $('chat-error').textContent = err.message;
      return null;
    }
  }

  $('compose').addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = $('message').value;
    if (!text.trim()) return;
    clearTimeout(typingTimer);
    typingSent = false;
    if (await act('/send', { message: text })) $('message').value = '';
    $('message').focus();
  });

  // Typing notices: one "is typing" when the agent starts, one "stopped typing" after a pause.
  $('message').addEventListener('input', () => {
    if (!current) return;
    if (!typingSent) {
      typingSent = true;
      act('/typing', { typing: true });
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      typingSent = false;
      act('/typing', { typing: false });
    }, 3000);
  });

  $('push-url').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (await act('/push-url', { url: $('url').value })) $('url').value = '';
  });

  $('notice').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (await act('/notice', { text: $('notice-text').value })) $('notice-text').value = '';
  });

  $('leave').addEventListener('click', async () => {
    const chat = await act('/leave');
    if (!chat) return;
    current = null;
    $('chat-title').textContent = 'No chat open';
    $('chat-state').textContent = 'You left the chat.';
    $('compose').hidden = true;
    $('more').hidden = true;
    $('leave').hidden = true;
    await refreshLists();
    $('chat-title').focus();
  });

  // ---- push ----

  function listen() {
    if (window.Faye) {
      faye = new window.Faye.Client('/genesys/cometd');
      faye.addExtension({
        outgoing(message, callback) {
          if (message.channel === '/meta/handshake') message.ext = Object.assign({}, message.ext, { token });
          callback(message);
        },
      });
      faye.subscribe('/agent/' + me.id, onPush).then(undefined, () => startPolling());
    } else {
      startPolling();
    }
  }

  function onPush(message) {
    if (message.type === 'events') {
      if (message.chatSessionId === current) {
        addEvents(message.events);
        setState(message.state);
      }
      if (message.state === 'ended' || message.events.some((e) => e.type === 'Notice.Joined')) refreshLists();
    } else {
      refreshLists();
    }
  }

  function startPolling() {
    if (poller) return;
    poller = setInterval(async () => {
      await refreshLists();
      if (current) showChat(await api('GET', '/chats/' + current));
    }, 2000);
  }

  if (token) signIn();
})();
