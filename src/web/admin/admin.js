// The admin page: services, endpoints and agents from the admin API, with editing through forms built
// from the JSON schemas. Every edit is checked by the gateway itself (a dry run) while it is typed, so the
// errors shown are the ones a file would get; saving sends If-Match, so no one's change is overwritten.
'use strict';

const API = '/genesys/1/admin';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const KINDS = {
  service: { segment: 'services', title: 'service' },
  endpoint: { segment: 'endpoints', title: 'endpoint' },
};
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('gms-admin-token') || '';
let refreshTimer;
const schemas = {};

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat(Infinity)) if (child !== undefined && child !== null) node.append(child);
  return node;
}

async function call(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(API + path, init);
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = text;
  }
  if (res.status === 401) showSignIn(data && data.message);
  return { status: res.status, body: data, etag: res.headers.get('ETag') };
}

// ---- signing in -------------------------------------------------------------------------------------

function showSignIn(message) {
  clearInterval(refreshTimer);
  $('dashboard').hidden = true;
  $('sign-in').hidden = false;
  $('sign-out').hidden = true;
  $('sign-in-error').textContent = token ? 'This token is not valid.' : message || '';
  $('token').focus();
}

$('sign-in').addEventListener('submit', async (event) => {
  event.preventDefault();
  token = $('token').value.trim();
  sessionStorage.setItem('gms-admin-token', token);
  $('token').value = '';
  await start();
});

$('sign-out').addEventListener('click', () => {
  token = '';
  sessionStorage.removeItem('gms-admin-token');
  showSignIn();
});

// ---- the dashboard ----------------------------------------------------------------------------------

async function start() {
  const ok = await refresh();
  if (!ok) return;
  $('sign-in').hidden = true;
  $('dashboard').hidden = false;
  $('sign-out').hidden = !token;
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => {
    if ($('editor').hidden) refresh();
  }, 3000);
}

async function refresh() {
  const [services, endpoints, overview, nodes] = await Promise.all([
    call('GET', '/services'),
    call('GET', '/endpoints'),
    call('GET', '/overview'),
    call('GET', '/nodes'),
  ]);
  if ([services, endpoints, overview].some((r) => r.status === 401)) return false;
  if (services.status !== 200 || endpoints.status !== 200 || overview.status !== 200) {
    toast('The gateway did not answer; retrying.');
    return true;
  }
  render(services.body, endpoints.body, overview.body, nodes.status === 200 ? nodes.body : undefined);
  return true;
}

function render(services, endpoints, overview, nodes) {
  const chats = overview.chats || { connected: 0, waiting: {}, services: {} };
  const waitingTotal = Object.values(chats.waiting).reduce((a, b) => a + b, 0);
  const refused = [
    ...services.rejected.map((r) => ({ ...r, kind: 'service' })),
    ...endpoints.rejected.map((r) => ({ ...r, kind: 'endpoint' })),
  ];
  const listening = overview.agents.filter((a) => a.listening > 0).length;

  $('node').textContent = overview.node;
  $('stat-services').textContent = services.services.length;
  setSub(
    'stat-services-sub',
    services.rejected.length ? `${services.rejected.length} file(s) refused` : 'all files loaded',
    services.rejected.length > 0,
  );
  $('stat-endpoints').textContent = endpoints.endpoints.length;
  setSub(
    'stat-endpoints-sub',
    endpoints.rejected.length
      ? `${endpoints.rejected.length} file(s) refused`
      : `${endpoints.endpoints.filter((e) => e.open).length} open`,
    endpoints.rejected.length > 0,
  );
  $('stat-chats').textContent = overview.chats ? chats.connected + waitingTotal : '–';
  setSub('stat-chats-sub', overview.chats ? `${waitingTotal} waiting · ${chats.connected} with an agent` : 'no census yet');
  $('stat-agents').textContent = `${listening} / ${overview.agents.length}`;
  setSub('stat-agents-sub', `${overview.agents.reduce((a, b) => a + b.chats, 0)} chats in hand`);
  $('census-age').textContent = overview.chats
    ? `Chat figures as of ${new Date(overview.chats.at).toLocaleTimeString()} (the last expiry sweep); listening counts this node's CometD clients.`
    : '';

  $('refused').hidden = refused.length === 0;
  $('refused-list').replaceChildren(
    ...refused.map((r) =>
      el(
        'li',
        {},
        el('strong', { text: r.file }),
        ` (${r.kind}${r.lastGoodServing ? ', last valid version still serving' : ''}): `,
        r.problems.map((p, i) => [
          i ? '; ' : null,
          p.field ? el('code', { text: p.field }) : null,
          p.field ? ': ' : null,
          p.reason,
        ]),
      ),
    ),
  );

  $('nodes-card').hidden = !nodes || nodes.nodes.length === 0;
  if (nodes) {
    $('nodes').replaceChildren(
      ...nodes.nodes.map((n) =>
        el(
          'tr',
          {},
          el('td', { class: 'mono', text: n.node + (n.node === overview.node ? ' (this node)' : '') }),
          el('td', {}, el('span', { class: `badge ${n.version === nodes.nodes[0].version ? 'ok' : 'warn'}`, text: n.version })),
          el('td', { class: 'muted', text: new Date(n.seenAt).toLocaleTimeString() }),
        ),
      ),
    );
  }

  $('service-rows').replaceChildren(
    ...(services.services.length
      ? services.services.map((s) => {
          const live = chats.services[s.name] || { waiting: 0, connected: 0 };
          return el(
            'tr',
            {},
            el(
              'td',
              { class: 'name' },
              s.name,
              s.options.description ? el('span', { class: 'desc', text: s.options.description }) : null,
            ),
            el('td', { class: 'mono', text: s.options.endpoint }),
            el('td', { class: 'num', text: `${s.options.ttl} s` }),
            el(
              'td',
              {},
              el('span', {
                class: `badge ${s.options.enabled ? 'ok' : 'off'}`,
                text: s.options.enabled ? 'Enabled' : 'Disabled',
              }),
            ),
            el('td', { class: 'num', text: live.waiting }),
            el('td', { class: 'num', text: live.connected }),
            el('td', { class: 'mono opt', text: s.file }),
            el(
              'td',
              {},
              el('button', {
                type: 'button',
                class: 'row-action',
                'aria-label': `Edit service ${s.name}`,
                text: 'Edit',
                onclick: () => openEditor('service', s.name),
              }),
            ),
          );
        })
      : [el('tr', {}, el('td', { colspan: 8, class: 'muted', text: 'No service yet: create one.' }))]),
  );

  $('endpoint-rows').replaceChildren(
    ...endpoints.endpoints.map((e) =>
      el(
        'tr',
        {},
        el(
          'td',
          { class: 'name' },
          e.name,
          e.description
            ? el('span', { class: 'desc', text: e.description.length > 80 ? `${e.description.slice(0, 80)}…` : e.description })
            : null,
        ),
        el('td', {}, el('span', { class: `badge ${e.open ? 'ok' : 'off'}`, text: e.open ? 'Open' : 'Closed' })),
        el('td', { class: 'num', text: e.waiting }),
        el('td', { class: 'num', text: e.maxWaiting ?? 'no cap' }),
        el('td', { text: e.agents.map((a) => a.nickname).join(', ') || '—' }),
        el('td', { class: 'mono opt', text: e.file }),
        el(
          'td',
          {},
          el('button', {
            type: 'button',
            class: 'row-action',
            'aria-label': `Edit endpoint ${e.name}`,
            text: 'Edit',
            onclick: () => openEditor('endpoint', e.name),
          }),
        ),
      ),
    ),
  );

  $('agent-rows').replaceChildren(
    ...(overview.agents.length
      ? overview.agents.map((a) =>
          el(
            'tr',
            {},
            el('td', { class: 'name' }, a.nickname, el('span', { class: 'desc mono', text: a.id })),
            el('td', { class: 'mono', text: a.endpoints.join(', ') }),
            el('td', {}, el('span', { class: `badge ${a.listening ? 'ok' : 'off'}`, text: a.listening ? 'Listening' : 'Away' })),
            el('td', { class: 'num', text: a.chats }),
          ),
        )
      : [el('tr', {}, el('td', { colspan: 4, class: 'muted', text: 'No agent in any endpoint file.' }))]),
  );
}

function setSub(id, text, bad = false) {
  $(id).textContent = text;
  $(id).classList.toggle('bad', bad);
}

function toast(message) {
  const box = $('toast');
  box.replaceChildren(...(Array.isArray(message) ? message : [message]));
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    box.hidden = true;
  }, 6000);
}

// ---- the editor: a form built from the schema ---------------------------------------------------------

const editor = { kind: 'service', name: undefined, etag: undefined, source: {}, fields: [], checkTimer: undefined, problems: [] };

async function schemaOf(kind) {
  if (!schemas[kind]) schemas[kind] = (await call('GET', `/schemas/${kind}`)).body;
  return schemas[kind];
}

/** The options a form shows: the schema's own names (GMS's `_` names stay in the file as written). */
function formProperties(schema) {
  return Object.entries(schema.properties).filter(([name, p]) => !name.startsWith('_') && p.const === undefined);
}

function inputFor(name, prop, value) {
  const id = `field-${name}`;
  const type = Array.isArray(prop.type) ? 'mixed' : prop.type;
  if (prop.enum || type === 'boolean') {
    const values = prop.enum || [true, false];
    const label = (v) => (v === true ? 'Yes' : v === false ? 'No' : String(v));
    const select = el(
      'select',
      { id, name },
      el('option', { value: '', text: prop.default !== undefined ? `Default (${label(prop.default)})` : 'Not set' }),
      values.map((v) => el('option', { value: JSON.stringify(v), text: label(v) })),
    );
    select.value = value === undefined ? '' : JSON.stringify(value);
    return { node: select, read: () => (select.value === '' ? undefined : JSON.parse(select.value)) };
  }
  if (type === 'integer' || type === 'number') {
    const input = el('input', {
      id,
      name,
      type: 'text',
      inputmode: 'numeric',
      placeholder: prop.default !== undefined ? String(prop.default) : '',
    });
    input.value = value === undefined ? '' : String(value);
    return {
      node: input,
      read: () => {
        const t = input.value.trim();
        if (t === '') return undefined;
        const n = Number(t);
        return Number.isFinite(n) && /^-?\d+(\.\d+)?$/.test(t) ? n : t;
      },
    };
  }
  if (type === 'string') {
    const long = (prop.maxLength || 0) > 200;
    const input = long
      ? el('textarea', { id, name, rows: 2, maxlength: prop.maxLength })
      : el('input', { id, name, type: 'text', placeholder: prop.default !== undefined ? String(prop.default) : '' });
    if (long) input.style.minHeight = '3.5rem';
    input.value = value === undefined ? '' : String(value);
    return { node: input, read: () => (input.value === '' ? undefined : input.value) };
  }
  // Lists and objects (an endpoint's agents) are edited as JSON.
  const area = el('textarea', {
    id,
    name,
    spellcheck: 'false',
    rows: 3,
    placeholder: prop.default !== undefined ? JSON.stringify(prop.default) : 'JSON',
  });
  area.value = value === undefined ? '' : JSON.stringify(value, null, 2);
  return {
    node: area,
    read: () => {
      const t = area.value.trim();
      if (t === '') return undefined;
      try {
        return JSON.parse(t);
      } catch {
        return t;
      }
    },
  };
}

async function openEditor(kind, name) {
  const schema = await schemaOf(kind);
  Object.assign(editor, { kind, name, etag: undefined, source: {}, fields: [], problems: [] });
  const title = KINDS[kind].title;
  if (name) {
    const res = await call('GET', `/${KINDS[kind].segment}/${encodeURIComponent(name)}`);
    if (res.status !== 200) return toast(res.body && res.body.message);
    editor.etag = res.body.etag;
    editor.source = res.body.source || {};
    $('editor-title').textContent = `Edit ${title} ${name}`;
    $('editor-file').textContent = `${res.body.file} · changes are written to this file on the gateway`;
  } else {
    $('editor-title').textContent = `New ${title}`;
    $('editor-file').textContent = `Written as ${KINDS[kind].segment}.d/<name>.json on the gateway`;
  }
  const rows = [];
  if (!name) {
    const input = el('input', { id: 'field-name', name: 'name', type: 'text', autocomplete: 'off', required: true });
    editor.fields.push({ name: 'name', read: () => input.value.trim() });
    rows.push(
      field(
        'name',
        'Name',
        input,
        kind === 'service' ? 'Customers call POST /genesys/1/service/<name>.' : 'Services route to it by this name.',
        undefined,
      ),
    );
  }
  for (const [option, prop] of formProperties(schema)) {
    const { node, read } = inputFor(option, prop, editor.source[option]);
    editor.fields.push({ name: option, read });
    rows.push(field(option, option, node, prop.description, prop.default));
  }
  $('editor-fields').replaceChildren(...rows);
  $('editor-changes').replaceChildren();
  $('editor-error').textContent = '';
  $('editor-delete').hidden = !name;
  $('editor-save').disabled = false;
  $('editor-save').textContent = name ? 'Save' : `Create ${title}`;
  $('scrim').hidden = false;
  $('editor').hidden = false;
  (rows[0] && rows[0].querySelector('input, select, textarea'))?.focus();
  if (name) scheduleCheck(0);
}

function field(name, label, input, help, fallback) {
  const errorId = `error-${name}`;
  input.setAttribute('aria-describedby', errorId);
  return el(
    'div',
    { class: 'field', 'data-field': name },
    el(
      'label',
      { for: input.id },
      el('span', { text: label }),
      fallback !== undefined ? el('span', { class: 'default', text: `default ${JSON.stringify(fallback)}` }) : null,
    ),
    input,
    help ? el('p', { class: 'help', text: help }) : null,
    el('p', { class: 'field-error', id: errorId, role: 'alert' }),
  );
}

/** The file's new content: the form's values over the options it does not show. */
function draft() {
  const shown = new Set(editor.fields.map((f) => f.name));
  const body = {};
  for (const [k, v] of Object.entries(editor.source)) if (!shown.has(k)) body[k] = v;
  let name;
  for (const f of editor.fields) {
    const value = f.read();
    if (f.name === 'name') name = value;
    else if (value !== undefined) body[f.name] = value;
  }
  return { name, body };
}

function scheduleCheck(ms = 250) {
  clearTimeout(editor.checkTimer);
  editor.checkTimer = setTimeout(check, ms);
}

/** Sends the draft as a dry run: the gateway's own verdict, shown beside each field before saving. */
async function check() {
  const { name, body } = draft();
  const problems = [];
  if (!editor.name && !NAME.test(name || ''))
    problems.push({
      field: 'name',
      reason: name ? 'letters, digits, . _ - only (up to 64), starting with a letter or digit' : 'is required',
    });
  let changes = [];
  if (problems.length === 0) {
    const res = await send(name, body, true);
    if (res.status === 200) changes = res.body.changes;
    else if (res.body && res.body.problems) problems.push(...res.body.problems);
    else if (res.status === 409 && !editor.name) problems.push({ field: 'name', reason: res.body.message });
    else if (res.status !== 401) problems.push({ field: '', reason: (res.body && res.body.message) || `error ${res.status}` });
  }
  showProblems(problems);
  showChanges(changes);
  return problems.length === 0;
}

function send(name, body, dryRun) {
  const { segment } = KINDS[editor.kind];
  const q = dryRun ? '?dryRun=true' : '';
  if (!editor.name) return call('POST', `/${segment}${q}`, { name, ...body });
  return call('PUT', `/${segment}/${encodeURIComponent(editor.name)}${q}`, body, { 'If-Match': editor.etag });
}

function showProblems(problems) {
  editor.problems = problems;
  const general = [];
  for (const box of document.querySelectorAll('#editor-fields .field')) {
    box.classList.remove('invalid');
    box.querySelector('.field-error').textContent = '';
  }
  for (const p of problems) {
    const top = (p.field || '').split('.')[0];
    const box = top && document.querySelector(`#editor-fields .field[data-field="${CSS.escape(top)}"]`);
    if (box) {
      box.classList.add('invalid');
      const line = box.querySelector('.field-error');
      line.textContent = [line.textContent, p.field === top ? p.reason : `${p.field.slice(top.length + 1)}: ${p.reason}`]
        .filter(Boolean)
        .join('; ');
    } else {
      general.push(p.field ? `${p.field}: ${p.reason}` : p.reason);
    }
  }
  $('editor-error').textContent = general.join('; ');
  $('editor-save').disabled = problems.length > 0;
}

function showChanges(changes) {
  const show = (v) => (v === undefined ? 'default' : JSON.stringify(v));
  $('editor-changes').replaceChildren(
    ...(changes.length && editor.name
      ? [
          el('span', { class: 'title', text: 'Will change' }),
          el(
            'ul',
            {},
            changes.map((c) => el('li', {}, el('code', { text: c.option }), `: ${show(c.before)} → ${show(c.after)}`)),
          ),
        ]
      : []),
  );
}

$('editor-fields').addEventListener('input', () => scheduleCheck());
$('editor-fields').addEventListener('change', () => scheduleCheck(0));

$('editor-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  clearTimeout(editor.checkTimer);
  if (!(await check())) return;
  const { name, body } = draft();
  const res = await send(name, body, false);
  if (res.status === 200 || res.status === 201) {
    closeEditor();
    const title = KINDS[editor.kind].title;
    const saved = res.body.name;
    toast(
      editor.kind === 'service' && !editor.name
        ? [
            'Service ',
            el('strong', { text: saved }),
            ' created: customers call ',
            el('code', { text: `POST /genesys/1/service/${saved}` }),
          ]
        : `The ${title} ${saved} is saved and in force.`,
    );
    await refresh();
  } else if (res.status === 412) {
    $('editor-error').textContent =
      'Someone changed this file since you opened it: close and open it again to see their version.';
  } else if (res.body && res.body.problems) {
    showProblems(res.body.problems);
  } else {
    $('editor-error').textContent = (res.body && res.body.message) || `The gateway answered ${res.status}.`;
  }
});

$('editor-delete').addEventListener('click', async () => {
  const title = KINDS[editor.kind].title;
  if (!confirm(`Delete the ${title} ${editor.name}? Its file is removed from the gateway.`)) return;
  const res = await call('DELETE', `/${KINDS[editor.kind].segment}/${encodeURIComponent(editor.name)}`, undefined, {
    'If-Match': editor.etag,
  });
  if (res.status === 200) {
    closeEditor();
    toast(`The ${title} ${editor.name} is deleted.`);
    await refresh();
  } else {
    $('editor-error').textContent =
      res.status === 412
        ? 'Someone changed this file since you opened it.'
        : (res.body && res.body.message) || `The gateway answered ${res.status}.`;
  }
});

function closeEditor() {
  clearTimeout(editor.checkTimer);
  $('editor').hidden = true;
  $('scrim').hidden = true;
}
$('editor-close').addEventListener('click', closeEditor);
$('editor-cancel').addEventListener('click', closeEditor);
$('scrim').addEventListener('click', closeEditor);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !$('editor').hidden) closeEditor();
});
$('new-service').addEventListener('click', () => openEditor('service'));
$('new-endpoint').addEventListener('click', () => openEditor('endpoint'));

// The tab of the section in view.
const tabs = [...document.querySelectorAll('.tab')];
function markTab() {
  const hash = location.hash || '#overview';
  for (const t of tabs) t.classList.toggle('current', t.getAttribute('href') === hash);
}
window.addEventListener('hashchange', markTab);
markTab();

start();
