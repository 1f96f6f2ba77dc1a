// The agent console: sign in with a token, see the waiting queue, accept, chat, transfer, invite others
// and leave, through the agent API (/agent/v1) and the agent's CometD channel /agent/{id} (polling when push is unavailable).
// It calls for attention (unread counts, the tab title, optional sound and desktop alerts), shows
// when the connection is lost, and reopens the open chat after a reload.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const API = '/agent/v1';
  const TITLE = document.title;
  /** Seconds between reconnection attempts: short, so the banner clears soon after the gateway is back. */
  const RETRY_S = 1;
  let token = sessionStorage.getItem('agentToken') || '';
  let me = null;
  let current = null; // the chatSessionId open in the middle
  let currentChat = null; // its last view
  let faye = null;
  let poller = null;
  let typingSent = false;
  let typingTimer = null;
  let waiting = []; // the queue as last read
  let mine = new Map(); // chatSessionId -> the agent's view of each of its chats, events included
  let pushDown = false;
  let requestDown = false;
  let audio = null;
  let listed = false;
  let status = { ready: true, chats: 0, maxChats: null }; // GET /status: readiness and load
  let canned = []; // the ready-made answers of the agent's endpoints

  // ---- small helpers ----

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children || []) node.append(child);
    return node;
  }

  function since(iso) {
    const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    return Math.floor(s / 3600) + ' h ' + (Math.floor(s / 60) % 60) + ' min';
  }

  function clock(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  /** Remembered per browser tab: what the agent has read, and which chat was open. */
  const seen = JSON.parse(sessionStorage.getItem('agentSeen') || '{}');
  function markSeen(id, position) {
    if ((seen[id] || 0) >= position) return;
    seen[id] = position;
    sessionStorage.setItem('agentSeen', JSON.stringify(seen));
  }

  const counts = (e) =>
    (e.partyType === 'CLIENT' &&
      (e.type === 'Message.Text' || e.type === 'Notice.PushUrl' || e.type === 'Notice.FileUploaded')) ||
    (e.visibility === 'agents' && e.type === 'Message.Text' && e.nickname !== (me && me.nickname));
  const unread = (chat) => chat.events.filter((e) => e.position > (seen[chat.chatSessionId] || 0) && counts(e)).length;
  const watching = () => !document.hidden;

  async function api(method, path, body) {
    const init = { method, headers: { Authorization: 'Bearer ' + token } };
    if (body) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(API + path, init);
    } catch {
      setRequestDown(true);
      const err = new Error('No connection to the gateway. Try again when the connection is back.');
      err.status = 0;
      throw err;
    }
    setRequestDown(false);
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(data.message || 'The request failed (' + res.status + ').');
      err.status = res.status;
      err.exception = data.exception;
      throw err;
    }
    return data;
  }

  // ---- the connection banner ----

  function setPushDown(down) {
    pushDown = down;
    $('offline').hidden = !(pushDown || requestDown);
  }
  function setRequestDown(down) {
    requestDown = down;
    $('offline').hidden = !(pushDown || requestDown);
  }

  // ---- signing in ----

  $('sign-in').addEventListener('submit', async (e) => {
    e.preventDefault();
    token = $('token').value.trim();
    await signIn();
  });

  $('sign-out').addEventListener('click', () => {
    sessionStorage.clear();
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
    api('GET', '/canned-responses').then(
      (r) => {
        canned = r.responses;
        if (currentChat) renderCanned(currentChat);
      },
      () => undefined,
    );
    await refreshLists();
    const reopen = sessionStorage.getItem('agentCurrent');
    if (reopen && mine.has(reopen)) await openChat(reopen);
    else $('queue-title').focus();
    setInterval(tick, 1000);
  }

  // ---- the queue and the agent's chats ----

  async function refreshLists() {
    let lists;
    try {
      lists = await Promise.all([api('GET', '/chats?state=waiting'), api('GET', '/chats?state=mine'), api('GET', '/status')]);
    } catch {
      return; // the banner says why; the next push or reconnection reads them again
    }
    if (me.supervisor) refreshLive();
    const before = new Set(waiting.map((c) => c.chatSessionId));
    waiting = lists[0].chats;
    // Without push, a new waiting chat is one that was not in the last list read.
    if (poller && listed) for (const c of waiting) if (!before.has(c.chatSessionId)) alertNewChat(c);
    mine = new Map(lists[1].chats.map((c) => [c.chatSessionId, c]));
    status = lists[2];
    renderStatus();
    listed = true;
    renderQueue();
    renderMine();
  }

  // ---- supervisors: the chats under way in their endpoints, to listen in on or join ----

  async function refreshLive() {
    let chats;
    try {
      chats = (await api('GET', '/chats?state=live')).chats;
    } catch {
      return;
    }
    $('live-section').hidden = false;
    $('live-count').textContent = String(chats.length);
    $('live-empty').hidden = chats.length > 0;
    $('live').replaceChildren(
      ...chats.map((c) => {
        const inIt = c.agents.some((a) => a.id === me.id);
        const who = c.agents.map((a) => a.nickname + (a.silent ? ' (listening)' : '')).join(', ');
        const label = el('div', { className: 'label' }, [
          el('strong', { textContent: c.nickname }),
          el('div', { className: 'meta', textContent: 'with ' + (who || 'nobody') }),
        ]);
        const buttons = inIt
          ? [el('span', { className: 'meta', textContent: 'You are in it' })]
          : [
              liveButton(c, 'Listen', 'Listen in on the chat with ' + c.nickname + ' (the customer does not see you)', true),
              liveButton(c, 'Join', 'Join the chat with ' + c.nickname + ' (the customer sees you join)', false),
            ];
        return el('li', {}, [el('span', { className: 'avatar', textContent: initial(c.nickname) }), label, ...buttons]);
      }),
    );
  }

  function liveButton(chat, text, label, silent) {
    const button = el('button', { type: 'button', className: silent ? 'plain' : '', textContent: text });
    button.setAttribute('aria-label', label);
    button.addEventListener('click', async () => {
      try {
        await api('POST', '/chats/' + chat.chatSessionId + '/join', { silent: String(silent) });
      } catch (err) {
        showError(err.message);
        return;
      }
      await refreshLists();
      await openChat(chat.chatSessionId);
    });
    return button;
  }

  /** Whether the agent may take one more chat now, and if not, why, in the agent's words. */
  function blocked() {
    if (!status.ready) return 'You are not ready: set yourself ready to accept chats.';
    if (status.maxChats !== null && status.chats >= status.maxChats)
      return 'You hold ' + status.chats + ' of ' + status.maxChats + ' chats: close one to accept another.';
    return '';
  }

  function renderStatus() {
    $('ready').checked = status.ready;
    $('ready-word').textContent = status.ready ? 'Ready' : 'Not ready';
    $('ready').closest('label').classList.toggle('off', !status.ready);
    $('mine-count').textContent = status.maxChats === null ? String(status.chats) : status.chats + ' / ' + status.maxChats;
    const why = blocked();
    $('hold').hidden = !why;
    $('hold').textContent = why;
  }

  $('ready').addEventListener('change', async () => {
    try {
      status = await api('POST', '/status', { ready: $('ready').checked });
    } catch (err) {
      showError(err.message);
    }
    renderStatus();
    renderQueue();
  });

  function renderQueue() {
    const why = blocked();
    $('queue-count').textContent = String(waiting.length);
    $('queue-empty').hidden = waiting.length > 0;
    $('queue').replaceChildren(
      ...waiting.map((c) => {
        const accept = el('button', { type: 'button', textContent: 'Accept' });
        accept.setAttribute('aria-label', 'Accept the chat with ' + c.nickname);
        accept.addEventListener('click', () => acceptChat(c.chatSessionId));
        if (why) {
          accept.disabled = true;
          accept.title = why;
        }
        const wait = el('span', { className: 'waited', textContent: 'waiting ' + since(c.waitingSince) });
        wait.dataset.since = c.waitingSince;
        const label = el('div', { className: 'label' }, [
          el('strong', { textContent: c.nickname }),
          el('div', { className: 'meta', textContent: c.subject || 'No subject' }),
          el('div', { className: 'meta' }, [wait]),
        ]);
        return el('li', {}, [el('span', { className: 'avatar', textContent: initial(c.nickname) }), label, accept]);
      }),
    );
    updateTitle();
  }

  function initial(name) {
    return (name.trim()[0] || '?').toUpperCase();
  }

  function renderMine() {
    const chats = [...mine.values()];
    $('mine-empty').hidden = chats.length > 0;
    $('mine').replaceChildren(
      ...chats.map((c) => {
        const count = c.chatSessionId === current && watching() ? 0 : unread(c);
        const last = [...c.events].reverse().find((e) => e.type === 'Message.Text' || e.type === 'Notice.FileUploaded');
        const open = el('button', { type: 'button', className: 'open' }, [
          el('span', { className: 'avatar', textContent: initial(c.customer.nickname) }),
          el('span', { className: 'label' }, [
            el('strong', { textContent: c.customer.nickname }),
            el('span', {
              className: 'meta preview',
              textContent:
                c.state === 'ended'
                  ? 'Ended'
                  : last
                    ? (last.partyType === 'CLIENT' ? '' : last.nickname === me.nickname ? 'You: ' : last.nickname + ': ') +
                      (last.type === 'Notice.FileUploaded' ? 'a file, ' : '') +
                      last.text
                    : 'No message yet',
            }),
          ]),
          ...(count > 0 ? [el('span', { className: 'count unread', textContent: String(count) })] : []),
        ]);
        open.setAttribute(
          'aria-label',
          'Open the chat with ' +
            c.customer.nickname +
            (count > 0 ? ', ' + count + ' unread' : '') +
            (c.state === 'ended' ? ', ended' : ''),
        );
        if (c.chatSessionId === current) open.setAttribute('aria-current', 'true');
        open.addEventListener('click', () => openChat(c.chatSessionId));
        return el('li', { className: (c.chatSessionId === current ? 'current ' : '') + (c.state === 'ended' ? 'ended' : '') }, [
          open,
        ]);
      }),
    );
    updateTitle();
  }

  function updateTitle() {
    let total = waiting.length;
    for (const c of mine.values()) if (!(c.chatSessionId === current && watching())) total += unread(c);
    document.title = total > 0 ? '(' + total + ') ' + TITLE : TITLE;
  }

  /** Every second: the waiting times move on. */
  let ticks = 0;
  function tick() {
    for (const node of document.querySelectorAll('.waited')) node.textContent = 'waiting ' + since(node.dataset.since);
    // Other agents' chats push nothing to a supervisor: the list under way is read again every 10 s.
    if (me && me.supervisor && ++ticks % 10 === 0) refreshLive();
  }

  async function acceptChat(id) {
    try {
      await api('POST', '/chats/' + id + '/accept');
    } catch (err) {
      showError(err.status === 409 && !/ready|hold/.test(err.message) ? 'Another agent took this chat.' : err.message);
      await refreshLists();
      return;
    }
    await refreshLists();
    await openChat(id);
  }

  // ---- attention: sound and desktop alerts for a new waiting chat ----

  const soundBox = $('sound');
  const desktopBox = $('desktop');
  soundBox.checked = localStorage.getItem('agentSound') === 'on';
  desktopBox.checked =
    localStorage.getItem('agentDesktop') === 'on' && 'Notification' in window && Notification.permission === 'granted';

  soundBox.addEventListener('change', () => {
    localStorage.setItem('agentSound', soundBox.checked ? 'on' : 'off');
    if (soundBox.checked) beep(); // a sample, and the user's gesture lets the page play sound later
  });

  desktopBox.addEventListener('change', async () => {
    if (!desktopBox.checked) return localStorage.setItem('agentDesktop', 'off');
    if (!('Notification' in window)) {
      desktopBox.checked = false;
      return showError('This browser cannot show desktop notifications.');
    }
    const permission = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
    desktopBox.checked = permission === 'granted';
    if (permission !== 'granted') showError('Desktop notifications are blocked for this site in the browser settings.');
    localStorage.setItem('agentDesktop', desktopBox.checked ? 'on' : 'off');
  });

  function beep() {
    try {
      audio = audio || new AudioContext();
      if (audio.state === 'suspended') audio.resume();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.4);
    } catch {
      // no audio device: the other signals remain
    }
  }

  function alertNewChat(chat) {
    if (blocked()) return; // a chat the agent cannot take now is no call to act
    if (soundBox.checked) beep();
    if (desktopBox.checked && 'Notification' in window && Notification.permission === 'granted') {
      const note = new Notification('New chat waiting: ' + chat.nickname, {
        body: chat.subject || 'No subject',
        tag: chat.chatSessionId,
        icon: '/favicon.svg',
      });
      note.onclick = () => {
        window.focus();
        note.close();
      };
    }
  }

  // ---- the open chat ----

  async function openChat(id) {
    let chat;
    try {
      chat = await api('GET', '/chats/' + id);
    } catch (err) {
      showError(err.message);
      return;
    }
    current = id;
    currentChat = chat;
    sessionStorage.setItem('agentCurrent', id);
    $('transcript').replaceChildren();
    $('typing').textContent = '';
    $('chat-error').textContent = '';
    $('no-chat').hidden = true;
    $('open-chat').hidden = false;
    $('chat-title').textContent = 'Chat with ' + chat.customer.nickname;
    showChat(chat);
    renderDetails(chat);
    renderCanned(chat);
    renderMine();
    if (chat.state !== 'ended') $('message').focus();
    else $('chat-title').focus();
  }

  function closePane(words) {
    current = null;
    currentChat = null;
    sessionStorage.removeItem('agentCurrent');
    $('open-chat').hidden = true;
    $('details').hidden = true;
    $('transcript').replaceChildren();
    $('no-chat').hidden = false;
    $('no-chat-text').textContent = words;
    renderMine();
    $('no-chat-title').focus();
  }

  function showChat(chat) {
    currentChat = chat;
    addEvents(chat.events);
    setState(chat);
    renderPeople(chat);
    if (watching()) markSeen(chat.chatSessionId, chat.transcriptPosition);
    updateTitle();
  }

  function setState(chat) {
    const ended = chat.state === 'ended';
    $('chat-state').textContent = ended
      ? 'This chat has ended.'
      : chat.state === 'connected'
        ? 'Connected · started ' + clock(chat.startedAt)
        : 'Waiting';
    $('compose').hidden = ended;
    if (ended) $('canned').hidden = true;
    $('more').hidden = ended;
    $('leave').textContent = ended ? 'Close chat' : 'Leave chat';
    $('leave').className = ended ? 'plain' : 'secondary';
    if (ended) $('typing').textContent = '';
    // Transfer and invite: for a party the customer sees, in a chat under way.
    const self = selfIn(chat);
    const active = chat.state === 'connected' && self && !self.silent;
    $('transfer').hidden = !active;
    $('invite').hidden = !active;
    // A silent party only whispers; in a conference anyone may.
    const silent = !!(self && self.silent);
    $('whisper-box').hidden = ended || (!silent && chat.agents.length < 2);
    $('whisper').checked = silent || ($('whisper').checked && !$('whisper-box').hidden);
    $('whisper').disabled = silent;
    $('more').hidden = ended || silent;
    $('attach').closest('label').hidden = silent;
    $('canned').hidden = $('canned').hidden || silent;
    composeMode();
  }

  function selfIn(chat) {
    return (chat.agents || []).find((a) => a.id === me.id);
  }

  /** The message box says where its text goes: the customer, or the agents only. */
  function composeMode() {
    const whisper = $('whisper').checked && !$('whisper-box').hidden;
    $('message').placeholder = whisper ? 'Whisper to the agents (the customer does not see it)…' : 'Write a message…';
    $('send').textContent = whisper ? 'Whisper' : 'Send';
  }
  $('whisper').addEventListener('change', composeMode);

  /** Who is in the chat: the customer, then the agents and supervisors, silent ones marked. */
  function renderPeople(chat) {
    const people = [el('li', { className: 'CLIENT', textContent: chat.customer.nickname + ' (customer)' })];
    for (const a of chat.agents || []) {
      const role = a.partyType === 'SUPERVISOR' ? 'supervisor' : 'agent';
      const notes = [a.id === me.id ? 'you' : role];
      if (a.id === me.id && role === 'supervisor') notes.push('supervisor');
      if (a.silent) notes.push('silent');
      people.push(
        el('li', {
          className: a.partyType + (a.silent ? ' silent' : ''),
          textContent: a.nickname + ' (' + notes.join(', ') + ')',
          title: a.silent ? 'The customer does not see them' : '',
        }),
      );
    }
    $('people').replaceChildren(...people);
  }

  /** The open chat's endpoint's ready-made answers; picking one puts it in the message box to edit or send. */
  function renderCanned(chat) {
    const mine = canned.filter((r) => r.endpoint === chat.endpoint);
    $('canned').hidden = mine.length === 0 || chat.state === 'ended';
    $('canned').replaceChildren(
      el('option', { value: '', textContent: 'Insert a canned response…' }),
      ...mine.map((r, i) => el('option', { value: String(i), textContent: r.title })),
    );
    $('canned').onchange = () => {
      const picked = mine[Number($('canned').value)];
      $('canned').value = '';
      if (!picked) return;
      const box = $('message');
      box.value = box.value.trim() ? box.value.replace(/\s*$/, '\n') + picked.text : picked.text;
      box.focus();
    };
  }

  function renderDetails(chat) {
    const c = chat.customer;
    const facts = [
      ['Name', [c.firstName, c.lastName].filter(Boolean).join(' ') || c.nickname],
      ['Email', c.email],
      ['Subject', c.subject],
      ['Service', chat.service],
      ['Started', new Date(chat.startedAt).toLocaleString()],
      ...Object.entries(chat.userData || {}),
    ].filter(([, v]) => v);
    $('facts').replaceChildren(
      ...facts.flatMap(([k, v]) => [el('dt', { textContent: k }), el('dd', { textContent: String(v) })]),
    );
    $('details').hidden = false;
  }

  function addEvents(events) {
    const list = $('transcript');
    const shown = new Set(Array.from(list.children, (li) => Number(li.dataset.position)));
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    for (const e of events) {
      if (shown.has(e.position)) continue;
      if (e.type === 'Notice.TypingStarted' || e.type === 'Notice.TypingStopped') {
        // The customer's typing is a passing state, not a line of the transcript.
        if (e.partyType === 'CLIENT')
          $('typing').textContent = e.type === 'Notice.TypingStarted' ? e.nickname + ' is typing…' : '';
        continue;
      }
      if (e.type === 'Message.Text' && e.partyType === 'CLIENT') $('typing').textContent = '';
      if (e.type === 'Notice.Left' && e.partyType === 'CLIENT') $('typing').textContent = '';
      const item = renderEvent(e);
      item.dataset.position = String(e.position);
      const after = Array.from(list.children).find((li) => Number(li.dataset.position) > e.position);
      list.insertBefore(item, after || null);
      shown.add(e.position);
    }
    if (nearBottom) list.scrollTop = list.scrollHeight;
  }

  function renderEvent(e) {
    const time = el('time', {
      className: 'time',
      dateTime: e.at,
      textContent: clock(e.at),
      title: new Date(e.at).toLocaleString(),
    });
    if (e.type === 'Message.Text') {
      return el('li', { className: 'message ' + e.partyType + (e.visibility === 'agents' ? ' whisper' : '') }, [
        el('span', { className: 'who', textContent: e.nickname }),
        el('p', { className: 'text', textContent: e.text }),
        time,
      ]);
    }
    if (e.type === 'Notice.PushUrl') {
      const link = el('a', { textContent: e.text, rel: 'noopener noreferrer', target: '_blank' });
      if (/^https?:\/\//i.test(e.text)) link.href = e.text;
      return el('li', { className: 'notice' }, [e.nickname + ' sent a link: ', link, ' · ', time]);
    }
    if (e.type === 'Notice.FileUploaded') return renderFile(e, time);
    if (e.type === 'Notice.FileDeleted') {
      markDeleted(e.data && e.data['file-id']);
      return el('li', { className: 'notice' }, [e.nickname + ' deleted the file ' + e.text + ' · ', time]);
    }
    if (e.type === 'Notice.Custom') return el('li', { className: 'notice' }, [e.nickname + ': ' + e.text + ' · ', time]);
    const who = e.partyType === 'SUPERVISOR' ? e.nickname + ' (supervisor)' : e.nickname;
    const words = e.type === 'Notice.Joined' ? 'joined the chat' : e.type === 'Notice.Left' ? 'left the chat' : e.text;
    const unseen = e.visibility === 'agents' ? ' (not shown to the customer)' : '';
    return el('li', { className: 'notice' }, [who + ' ' + words + unseen + ' · ', time]);
  }

  // ---- files (chats of services that take them) ----

  function size(bytes) {
    const n = Number(bytes);
    return n < 1024 ? n + ' B' : n < 1024 * 1024 ? Math.round(n / 1024) + ' kB' : (n / 1024 / 1024).toFixed(1) + ' MB';
  }

  function renderFile(e, time) {
    const data = e.data || {};
    const get = el('button', { type: 'button', className: 'file', textContent: e.text });
    get.setAttribute('aria-label', 'Download ' + e.text);
    get.addEventListener('click', () => download(data['file-id'], e.text));
    const facts = el('span', {
      className: 'file-facts',
      textContent: [size(data['file-size'] || 0), data['file-description']].filter(Boolean).join(' · '),
    });
    const item = el('li', { className: 'message ' + e.partyType }, [
      el('span', { className: 'who', textContent: e.nickname }),
      el('p', { className: 'text' }, [get, ' ', facts]),
      time,
    ]);
    item.dataset.file = data['file-id'] || '';
    return item;
  }

  function markDeleted(fileId) {
    const item = fileId && Array.from($('transcript').children).find((li) => li.dataset.file === fileId);
    if (!item) return;
    item.classList.add('deleted');
    const get = item.querySelector('button.file');
    if (get) get.replaceWith(el('s', { textContent: get.textContent }));
  }

  /** A file comes with the agent's token, which a plain link cannot carry: fetched, then saved. */
  async function download(fileId, name) {
    let res;
    try {
      res = await fetch(API + '/chats/' + current + '/files/' + encodeURIComponent(fileId), {
        headers: { Authorization: 'Bearer ' + token },
      });
    } catch {
      setRequestDown(true);
      return showError('No connection to the gateway. Try again when the connection is back.');
    }
    if (!res.ok) {
      const data = await res.json().catch(() => ({}));
      return showError(data.message || 'The file could not be downloaded.');
    }
    const url = URL.createObjectURL(await res.blob());
    const save = el('a', { href: url, download: name });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  $('attach').addEventListener('change', async () => {
    const file = $('attach').files[0];
    if (!file || !current) return;
    const form = new FormData();
    form.append('file', file, file.name);
    $('chat-error').textContent = '';
    try {
      let res;
      try {
        res = await fetch(API + '/chats/' + current + '/files', {
          method: 'POST',
          headers: { Authorization: 'Bearer ' + token },
          body: form,
        });
      } catch {
        setRequestDown(true);
        throw new Error('No connection to the gateway. Try again when the connection is back.');
      }
      const data = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(data.message || 'The file could not be sent.');
      showChat(data);
    } catch (err) {
      showError(err.message);
    } finally {
      $('attach').value = '';
    }
  });

  function showError(text) {
    $('chat-error').textContent = text;
    if ($('open-chat').hidden) $('no-chat-text').textContent = text;
  }

  async function act(path, body) {
    $('chat-error').textContent = '';
    const id = current;
    try {
      const chat = await api('POST', '/chats/' + id + path, body);
      if (current === id) showChat(chat);
      return chat;
    } catch (err) {
      showError(err.message);
      return null;
    }
  }

  async function send() {
    const text = $('message').value;
    if (!text.trim()) return;
    clearTimeout(typingTimer);
    typingSent = false;
    const whisper = $('whisper').checked && !$('whisper-box').hidden;
    if (await act(whisper ? '/whisper' : '/send', { message: text })) $('message').value = '';
    $('message').focus();
  }

  $('compose').addEventListener('submit', (e) => {
    e.preventDefault();
    send();
  });

  $('message').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });

  // Typing notices: one "is typing" when the agent starts, one "stopped typing" after a pause.
  $('message').addEventListener('input', () => {
    // A whisper is not announced to the customer by a typing notice.
    if (!current || ($('whisper').checked && !$('whisper-box').hidden)) return;
    if (!typingSent) {
      typingSent = true;
      act('/typing', { typing: true });
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      typingSent = false;
      if (current) act('/typing', { typing: false });
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

  // Leaving a live chat ends it for the customer: ask first. Closing an ended chat needs no question.
  $('leave').addEventListener('click', () => {
    if (currentChat && currentChat.state === 'ended') return leave();
    const self = selfIn(currentChat);
    const others = currentChat.agents.filter((a) => a.id !== me.id && !a.silent);
    $('confirm-leave-text').textContent =
      (self && self.silent) || others.length > 0
        ? 'The chat goes on' + (others.length > 0 ? ' with ' + others.map((a) => a.nickname).join(', ') : '') + ' without you.'
        : 'The chat ends for ' + currentChat.customer.nickname + ', who cannot write to you any more.';
    $('confirm-leave').showModal();
  });

  $('confirm-leave').addEventListener('close', () => {
    if ($('confirm-leave').returnValue === 'leave') leave();
    else $('leave').focus();
  });

  async function leave() {
    const name = currentChat.customer.nickname;
    const wasOver = currentChat.state === 'ended';
    clearTimeout(typingTimer);
    typingSent = false;
    const chat = await act('/leave');
    if (!chat) return;
    mine.delete(chat.chatSessionId);
    closePane(
      wasOver
        ? 'You closed the chat with ' + name + '.'
        : chat.state === 'ended'
          ? 'You left the chat with ' + name + '. The chat has ended.'
          : 'You left the chat with ' + name + '; it goes on without you.',
    );
    await refreshLists();
  }

  // ---- transfer and invite: one dialog, two modes ----

  let handOff = null; // 'transfer' | 'invite' while the dialog is open
  let choices = []; // what each option of the dialog stands for

  async function openHandOff(mode) {
    let others;
    try {
      others = (await api('GET', '/agents')).agents;
    } catch (err) {
      showError(err.message);
      return;
    }
    const chat = currentChat;
    const inChat = new Set(chat.agents.map((a) => a.id));
    const here = others.filter((a) => a.endpoints.includes(chat.endpoint) && !inChat.has(a.id));
    const load = (a) =>
      (a.ready ? 'ready' : 'not ready') +
      ' · ' +
      (a.maxChats === null ? a.chats + ' chats' : a.chats + '/' + a.maxChats + ' chats');
    const full = (a) => !a.ready || (a.maxChats !== null && a.chats >= a.maxChats);
    choices = here.map((a) => ({ kind: 'agent', agent: a, disabled: full(a) }));
    const people = el(
      'optgroup',
      { label: 'Agents and supervisors' },
      choices.map((c, i) =>
        el('option', {
          value: String(i),
          disabled: c.disabled,
          textContent: c.agent.nickname + (c.agent.supervisor ? ' (supervisor)' : '') + ' — ' + load(c.agent),
        }),
      ),
    );
    const groups = choices.length > 0 ? [people] : [];
    if (mode === 'transfer') {
      const queues = me.endpoints.map((endpoint) => ({ kind: 'queue', endpoint }));
      groups.push(
        el(
          'optgroup',
          { label: 'Back to a queue' },
          queues.map((q, i) =>
            el('option', {
              value: String(choices.length + i),
              textContent: q.endpoint === chat.endpoint ? 'This chat’s queue (' + q.endpoint + ')' : 'Queue ' + q.endpoint,
            }),
          ),
        ),
      );
      choices = choices.concat(queues);
    }
    handOff = mode;
    $('hand-off-title').textContent = mode === 'transfer' ? 'Transfer this chat' : 'Invite someone into this chat';
    $('hand-off-text').textContent =
      mode === 'transfer'
        ? chat.customer.nickname + ' sees you leave and the new agent join. To a queue, the chat waits for the next agent.'
        : chat.customer.nickname + ' sees them join, unless a supervisor joins silently. You stay in the chat.';
    $('hand-off-go').textContent = mode === 'transfer' ? 'Transfer' : 'Invite';
    $('hand-off-to').replaceChildren(...groups);
    const first = choices.findIndex((c) => !c.disabled);
    $('hand-off-to').value = first >= 0 ? String(first) : '';
    $('silent').checked = false;
    pickChanged();
    $('hand-off').showModal();
    $('hand-off-to').focus();
  }

  function pickChanged() {
    const picked = choices[Number($('hand-off-to').value)];
    const ok = !!picked && !picked.disabled;
    $('hand-off-go').disabled = !ok;
    $('silent-box').hidden = !(handOff === 'invite' && picked && picked.kind === 'agent' && picked.agent.supervisor);
    $('hand-off-why').textContent =
      choices.length === 0 || (choices.every((c) => c.disabled) && handOff === 'invite')
        ? 'No one else can take it now: the others are not ready or hold their most chats.'
        : '';
  }
  $('hand-off-to').addEventListener('change', pickChanged);
  $('transfer').addEventListener('click', () => openHandOff('transfer'));
  $('invite').addEventListener('click', () => openHandOff('invite'));

  $('hand-off').addEventListener('close', async () => {
    const mode = handOff;
    handOff = null;
    const picked = choices[Number($('hand-off-to').value)];
    if ($('hand-off').returnValue !== 'go' || !picked) return $(mode === 'transfer' ? 'transfer' : 'invite').focus();
    const name = currentChat.customer.nickname;
    if (mode === 'invite') {
      const chat = await act('/invite', { agentId: picked.agent.id, silent: $('silent').checked });
      if (chat) mine.set(chat.chatSessionId, chat);
      return;
    }
    const chat = await act('/transfer', picked.kind === 'agent' ? { agentId: picked.agent.id } : { endpoint: picked.endpoint });
    if (!chat) return;
    mine.delete(chat.chatSessionId);
    closePane(
      picked.kind === 'agent'
        ? 'You transferred the chat with ' + name + ' to ' + picked.agent.nickname + '.'
        : 'You put the chat with ' + name + ' back in the queue ' + picked.endpoint + '.',
    );
    await refreshLists();
  });

  document.addEventListener('visibilitychange', () => {
    if (!watching() || !currentChat) return updateTitle();
    markSeen(current, currentChat.transcriptPosition);
    renderMine();
  });

  // ---- push ----

  function listen() {
    if (!window.Faye) return startPolling();
    faye = new window.Faye.Client('/genesys/cometd', { retry: RETRY_S });
    faye.addExtension({
      outgoing(message, callback) {
        if (message.channel === '/meta/handshake') message.ext = Object.assign({}, message.ext, { token });
        callback(message);
      },
    });
    faye.on('transport:down', () => setPushDown(true));
    faye.on('transport:up', () => {
      if (!pushDown) return;
      setPushDown(false);
      catchUp(); // nothing was pushed while the connection was down
    });
    faye.subscribe('/agent/' + me.id, onPush).then(undefined, () => startPolling());
  }

  async function catchUp() {
    await refreshLists();
    if (!current) return;
    try {
      showChat(await api('GET', '/chats/' + current));
    } catch {
      // the banner or the next catch-up tells
    }
  }

  function onPush(message) {
    if (message.type === 'events') {
      const chat = mine.get(message.chatSessionId);
      if (chat) {
        const known = new Set(chat.events.map((e) => e.position));
        chat.events.push(...message.events.filter((e) => !known.has(e.position)));
        chat.state = message.state;
        if (message.events.length > 0)
          chat.transcriptPosition = Math.max(chat.transcriptPosition, ...message.events.map((e) => e.position));
      }
      if (message.chatSessionId === current) {
        addEvents(message.events);
        if (chat) showChat(chat);
        // Someone came or went: who is in the chat is read again.
        if (message.events.some((e) => e.type === 'Notice.Joined' || e.type === 'Notice.Left'))
          api('GET', '/chats/' + current).then(
            (fresh) => fresh.chatSessionId === current && showChat(fresh),
            () => undefined,
          );
      }
      renderMine();
      if (message.state === 'ended' || message.events.some((e) => e.type === 'Notice.Joined')) refreshLists();
    } else if (message.type === 'waiting') {
      if (message.chat && !waiting.some((c) => c.chatSessionId === message.chat.chatSessionId)) alertNewChat(message.chat);
      refreshLists();
    } else {
      refreshLists();
    }
  }

  function startPolling() {
    if (poller) return;
    poller = setInterval(catchUp, 2000);
  }

  if (token) signIn();
})();
