// The OpenAPI 3.1 description of every HTTP API the gateway serves (the customer's Chat API v1 and v2,
// the agent API, the admin API, the operators' probes), served at GET /openapi.json. The service and
// endpoint file schemas are those of schemas/, read from there, so the document and the files never
// disagree. test/openapi.test.ts calls every operation and checks each real answer against it.

import fs from 'node:fs';
import Router from '@koa/router';
import { V1_EVENT_TYPES, V1_PARTY_TYPES } from '../chat/transcript.ts';
import { schemaFor, SCHEMAS_DIR } from '../config/schema-files.ts';
import { EXCEPTIONS } from '../errors.ts';

type Schema = Record<string, unknown>;
type Operation = Record<string, unknown>;

const VERSION = (JSON.parse(fs.readFileSync(`${SCHEMAS_DIR}../package.json`, 'utf8')) as { version: string }).version;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string): Schema => ({ type: 'string', ...(description ? { description } : {}) });
const int = (description?: string): Schema => ({ type: 'integer', ...(description ? { description } : {}) });
const bool = (description?: string): Schema => ({ type: 'boolean', ...(description ? { description } : {}) });
const arrayOf = (items: Schema): Schema => ({ type: 'array', items });
const strings: Schema = { type: 'object', additionalProperties: { type: 'string' } };
/** An object with exactly these properties, `required` of them always present. */
const obj = (properties: Record<string, Schema>, required: string[] = Object.keys(properties), description?: string): Schema => ({
  type: 'object',
  ...(description ? { description } : {}),
  required,
  properties,
  additionalProperties: false,
});
/** A file's schema from schemas/, as a component: its own `$schema` and `$id` belong to the file. */
function fileSchema(name: string): Schema {
  const { $schema: _dialect, $id: _id, ...schema } = schemaFor(name) as Schema;
  return schema;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  400: 'The request is not valid (a parameter, the body)',
  401: 'No token, or not a valid one',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  412: 'The If-Match ETag is not the current one',
  413: 'The body is too large',
  415: 'The content type is not accepted',
  428: 'If-Match is required',
  429: 'Rate limited (Retry-After) or a per-address cap reached',
  500: 'The gateway failed (logged with its cause)',
  503: 'The service, its endpoint or the store cannot serve this now',
};

/** Error answers of one wire family: `{message, exception}` or Chat API v2's `{statusCode, errors}`. */
function errors(statuses: number[], body: 'Error' | 'V2Error'): Record<string, unknown> {
  return Object.fromEntries(
    statuses.map((s) => [String(s), { description: STATUS_TEXT[s], content: { 'application/json': { schema: ref(body) } } }]),
  );
}

const ok = (schema: Schema, description = 'OK', mediaType = 'application/json'): Record<string, unknown> => ({
  description,
  content: { [mediaType]: { schema } },
});

/** Form bodies: form-urlencoded, multipart fields, JSON or the query string alike (the body normaliser). */
function form(properties: Record<string, Schema>, required: string[] = [], extra = false): Record<string, unknown> {
  const schema = { type: 'object', required, properties, additionalProperties: extra ? { type: 'string' } : false };
  return {
    required: required.length > 0,
    content: {
      'application/x-www-form-urlencoded': { schema },
      'multipart/form-data': { schema },
      'application/json': { schema },
    },
  };
}

const pathParam = (name: string, description: string): Schema => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});

// ---- shared pieces of each family ----

const V1_ERRORS = [400, 403, 404, 413, 415, 429, 500, 503];
const V2_ERRORS = [400, 404, 413, 415, 429, 500, 503];
const AGENT_ERRORS = [400, 401, 403, 404, 413, 415, 429, 500, 503];
const ADMIN_READ_ERRORS = [401, 404, 429, 500, 503];

const v1Op = (summary: string, description: string, body: Record<string, unknown> | undefined, response: Schema): Operation => ({
  tags: ['Chat API v1'],
  summary,
  description,
  parameters: [
    pathParam('id', 'The service session id (`_id` of the create answer).'),
    {
      name: 'gms_user',
      in: 'header',
      required: false,
      schema: { type: 'string', maxLength: 256 },
      description: "The customer app's user id; a session bound to one answers only calls with the same.",
    },
  ],
  ...(body ? { requestBody: body } : {}),
  responses: { '200': ok(response), ...errors(V1_ERRORS, 'Error') },
});

const V1_VERBOSE = {
  _verbose: str('`true`: the answer also carries userId, secureKey, alias, the action links and the Chat Server fields.'),
};
const V1_POSITION = { transcriptPosition: str('Show the events after this position (a whole number ≥ 0).') };

const V2_CREDENTIALS = {
  userId: str('As the request chat answer gave it.'),
  secureKey: str('As the request chat answer gave it; checked on every call.'),
  alias: str('As the request chat answer gave it (not checked).'),
  transcriptPosition: str('Answer the messages with index ≥ this (a whole number).'),
};
const v2Path = [pathParam('service', 'The service name.'), pathParam('chatId', 'The chat id of the request chat answer.')];

const v2Op = (
  summary: string,
  description: string,
  properties: Record<string, Schema> = {},
  extraRequired: string[] = [],
  response: Schema = ref('V2Answer'),
  moreErrors: number[] = [],
): Operation => ({
  tags: ['Chat API v2'],
  summary,
  description,
  parameters: v2Path,
  requestBody: form({ ...V2_CREDENTIALS, ...properties }, ['userId', 'secureKey', ...extraRequired], true),
  responses: { '200': ok(response), ...errors([...V2_ERRORS, ...moreErrors].sort(), 'V2Error') },
});

const agentChat = [pathParam('id', 'The chat (`chatSessionId`).')];
const agentOp = (
  summary: string,
  description: string,
  options: { body?: Record<string, unknown>; response?: Schema; parameters?: Schema[]; more?: number[]; method?: string } = {},
): Operation => ({
  tags: ['Agent API'],
  summary,
  description,
  security: [{ agentToken: [] }],
  ...(options.parameters ? { parameters: options.parameters } : {}),
  ...(options.body ? { requestBody: options.body } : {}),
  responses: {
    '200': ok(options.response ?? ref('AgentChat')),
    ...errors([...AGENT_ERRORS, ...(options.more ?? [])].sort(), 'Error'),
  },
});

const adminRead = (
  summary: string,
  response: Record<string, unknown>,
  parameters: Schema[] = [],
  more: number[] = [],
): Operation => ({
  tags: ['Admin API'],
  summary,
  security: [{ adminToken: [] }],
  ...(parameters.length ? { parameters } : {}),
  responses: { '200': response, ...errors([...ADMIN_READ_ERRORS, ...more].sort(), 'Error') },
});

const DRY_RUN = {
  name: 'dryRun',
  in: 'query',
  required: false,
  schema: { enum: ['true', 'false'] },
  description: '`true`: check everything and answer what would change, writing nothing.',
};
const IF_MATCH = {
  name: 'If-Match',
  in: 'header',
  required: false,
  schema: { type: 'string' },
  description: 'The current ETag (or `*`); required to change or delete an existing file.',
};
const IF_NONE_MATCH = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  schema: { const: '*' },
  description: '`*`: create only (PUT).',
};
const ETAG_HEADER = { ETag: { description: "The file's ETag after the change", schema: { type: 'string' } } };

/** The admin API's calls on one kind of file (`services` or `endpoints`). */
function adminKind(kind: string, file: string, shown: string): { create: Operation; one: Record<string, Operation> } {
  const name = pathParam('name', `The ${kind} name (its file's base name).`);
  const jsonBody = (schema: Schema, types = ['application/json']): Record<string, unknown> => ({
    required: true,
    content: Object.fromEntries(types.map((t) => [t, { schema }])),
  });
  const write = (
    summary: string,
    description: string,
    created: boolean,
    parameters: Schema[],
    body?: Record<string, unknown>,
  ): Operation => ({
    tags: ['Admin API'],
    summary,
    description,
    security: [{ adminToken: [] }],
    parameters,
    ...(body ? { requestBody: body } : {}),
    responses: {
      '200': { ...ok(ref('ChangeOutcome'), 'Changed (or, with dryRun, what would change)'), headers: ETAG_HEADER },
      ...(created
        ? {
            '201': {
              ...ok(ref('ChangeOutcome'), 'Created'),
              headers: { ...ETAG_HEADER, Location: { schema: { type: 'string' } } },
            },
          }
        : {}),
      ...errors([400, 401, 403, 404, 409, 412, 413, 415, 428, 429, 500, 503], 'Error'),
    },
  });
  return {
    create: write(
      `Create a ${kind}`,
      `The body is the new file's content with its \`name\`: \`{"name": "billing", ...}\`; the other properties are those of the ${file} schema (values may be written as strings, as GMS writes them). 409 if the name exists.`,
      true,
      [DRY_RUN],
      jsonBody({
        type: 'object',
        required: ['name'],
        properties: { name: str() },
        description: `\`name\` and the options of ${file}.`,
      }),
    ),
    one: {
      get: adminRead(
        `One ${kind}: its file's content, its effective options, its ETag`,
        { ...ok(ref(`Admin${shown}`)), headers: { ETag: { schema: { type: 'string' } } } },
        [name],
      ),
      put: write(
        `Replace (or create) a ${kind}'s file`,
        'The body is the whole file.',
        true,
        [name, DRY_RUN, IF_MATCH, IF_NONE_MATCH],
        jsonBody(ref(file)),
      ),
      patch: write(
        `Change a ${kind}'s file with a JSON merge patch`,
        'RFC 7386: `null` removes an option.',
        false,
        [name, DRY_RUN, IF_MATCH],
        jsonBody({ type: 'object' }, ['application/merge-patch+json', 'application/json']),
      ),
      delete: write(`Delete a ${kind}'s file (and the ${kind})`, '', false, [name, DRY_RUN, IF_MATCH]),
    },
  };
}

// ---- the document ----

export function openApiDocument(): Schema {
  const v1Event = {
    type: 'array',
    description: '[type, nickname, text, seconds since startedAt, party type]',
    prefixItems: [
      { enum: [...V1_EVENT_TYPES] },
      str(),
      str(),
      { type: 'string', pattern: '^\\d+$' },
      { enum: [...V1_PARTY_TYPES] },
    ],
    items: false,
    minItems: 5,
  };
  const chatLinks = ['SEND', 'REFRESH', 'REFRESH_FROM_START', 'START_TYPING', 'STOP_TYPING', 'DISCONNECT'].map(
    (a) => `_chatIxnAPI_${a}_URL`,
  );
  const endpointProperties: Record<string, Schema> = {
    name: str(),
    open: bool(),
    maxWaiting: int(),
    maxChatsPerAgent: int(),
    description: str(),
    cannedResponses: arrayOf(obj({ title: str(), text: str() })),
    agents: arrayOf(
      obj({ id: str(), nickname: str(), maxChats: int(), role: { enum: ['agent', 'supervisor'] } }, ['id', 'nickname']),
    ),
  };
  const schemas: Record<string, Schema> = {
    ServiceFile: fileSchema('request-chat'),
    EndpointFile: fileSchema('endpoint'),
    Error: {
      type: 'object',
      description:
        'Every error of Chat API v1, the agent API and the admin API. Admin errors may add fields (`problems`, `etag`).',
      required: ['message', 'exception'],
      properties: {
        message: str('For a person.'),
        exception: { enum: Object.keys(EXCEPTIONS) },
        problems: arrayOf(obj({ field: str(), reason: str() })),
        etag: str('412: the current ETag.'),
      },
      additionalProperties: false,
    },
    // Chat API v1
    V1Session: obj(
      {
        _id: str('The service session id.'),
        '_chatIxnAPI-CREATE-URL': str(),
        _service: str('With _gateway_extras=true (ours).'),
        _ttl: int(),
        _endpoint: str(),
        _data: strings,
      },
      ['_id', '_chatIxnAPI-CREATE-URL'],
    ),
    V1Chat: obj(
      {
        chatIxnState: { enum: ['CONNECTED', 'DISCONNECTED'] },
        chatSessionId: str(),
        transcriptPosition: { type: 'string', pattern: '^\\d+$', description: 'The number of the last event in the chat.' },
        chatServiceMessage: str(),
        startedAt: { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$' },
        transcriptToShow: arrayOf(v1Event),
        userId: str('_verbose'),
        secureKey: str('_verbose'),
        alias: str('_verbose'),
        ...Object.fromEntries(chatLinks.map((l) => [l, str('_verbose')])),
        checkChatServiceLoadBalancerPath: str('_verbose'),
        chatServerLoadBalancerAlias: str('_verbose'),
        chatServerHost: str('_verbose'),
        chatWebApiPort: int('_verbose'),
        isTLSrequired: bool('_verbose'),
        clientTimeZoneOffset: str('_verbose'),
      },
      ['chatIxnState', 'chatSessionId', 'transcriptPosition', 'chatServiceMessage', 'startedAt', 'transcriptToShow'],
    ),
    // Chat API v2
    V2Message: obj(
      {
        from: obj({ nickname: str(), participantId: int(), type: { enum: ['Client', 'Agent', 'Supervisor', 'External'] } }),
        index: { type: 'integer', minimum: 1 },
        type: {
          enum: [
            'ParticipantJoined',
            'ParticipantLeft',
            'Message',
            'TypingStarted',
            'TypingStopped',
            'PushUrl',
            'CustomNotice',
            'NicknameUpdated',
            'FileUploaded',
            'FileDeleted',
          ],
        },
        utcTime: int('Milliseconds since the epoch.'),
        text: str(),
        userData: strings,
      },
      ['from', 'index', 'type', 'utcTime'],
    ),
    V2Answer: obj(
      {
        messages: arrayOf(ref('V2Message')),
        chatEnded: bool(),
        statusCode: { const: 0 },
        alias: str(),
        secureKey: str(),
        userId: str(),
        chatId: str(),
        nextPosition: { type: 'integer', minimum: 1, description: 'The index the next message will have.' },
        userData: obj({ 'file-id': str() }, ['file-id'], "File upload: the new file's id."),
      },
      ['messages', 'chatEnded', 'statusCode', 'alias', 'secureKey', 'userId', 'chatId', 'nextPosition'],
    ),
    V2FileLimits: obj({
      messages: arrayOf(
        obj({
          from: obj({ nickname: str(), participantId: int(), type: { const: 'Client' } }),
          type: { const: 'Notice' },
          text: { const: 'file-client-cfg-get' },
          utcTime: int(),
          userData: ref('V2FileLimitValues'),
        }),
      ),
      chatEnded: bool(),
      statusCode: { const: 0 },
      userData: ref('V2FileLimitValues'),
    }),
    V2FileLimitValues: obj(
      Object.fromEntries(
        [
          'download-attempts',
          'upload-max-files',
          'upload-max-file-size',
          'upload-max-total-size',
          'upload-need-agent',
          'upload-file-types',
          'used-upload-max-files',
          'used-upload-max-total-size',
          'used-download-attempts',
        ].map((k) => [k, str()]),
      ),
    ),
    V2Error: obj({
      statusCode: {
        enum: [1, 2],
        description: '1: the request cannot be done as sent; 2: the chat, the service or the gateway cannot serve it.',
      },
      errors: { type: 'array', minItems: 1, items: obj({ code: int("See the README's table."), advice: str() }) },
    }),
    // Agent API
    AgentEvent: obj(
      {
        position: { type: 'integer', minimum: 1 },
        type: str('The event type (Message.Text, Notice.Joined, ...).'),
        nickname: str(),
        text: str(),
        at: { type: 'string', format: 'date-time' },
        partyType: { enum: ['CLIENT', 'AGENT', 'SUPERVISOR', 'EXTERNAL'] },
        data: strings,
        visibility: { enum: ['agents'], description: 'Seen by the agents only: a whisper, a silent supervisor, a reminder.' },
      },
      ['position', 'type', 'nickname', 'text', 'at', 'partyType'],
    ),
    AgentChat: obj(
      {
        chatSessionId: str(),
        service: str(),
        endpoint: str(),
        state: { enum: ['waiting', 'connected', 'ended'] },
        startedAt: { type: 'string', format: 'date-time' },
        endedAt: { type: 'string', format: 'date-time' },
        customer: obj({ nickname: str(), firstName: str(), lastName: str(), email: str(), subject: str() }, ['nickname']),
        userData: strings,
        agents: arrayOf(ref('ChatAgent')),
        transcriptPosition: int(),
        events: arrayOf(ref('AgentEvent')),
      },
      [
        'chatSessionId',
        'service',
        'endpoint',
        'state',
        'startedAt',
        'customer',
        'userData',
        'agents',
        'transcriptPosition',
        'events',
      ],
    ),
    ChatAgent: obj({ id: str(), nickname: str(), partyType: { enum: ['AGENT', 'SUPERVISOR'] }, silent: bool() }, [
      'id',
      'nickname',
      'partyType',
      'silent',
    ]),
    WaitingChat: obj(
      {
        chatSessionId: str(),
        service: str(),
        endpoint: str(),
        nickname: str(),
        subject: str(),
        waitingSince: { type: 'string', format: 'date-time' },
        userData: strings,
      },
      ['chatSessionId', 'service', 'endpoint', 'nickname', 'waitingSince', 'userData'],
    ),
    LiveChat: obj(
      {
        chatSessionId: str(),
        service: str(),
        endpoint: str(),
        nickname: str(),
        subject: str(),
        startedAt: { type: 'string', format: 'date-time' },
        agents: arrayOf(ref('ChatAgent')),
      },
      ['chatSessionId', 'service', 'endpoint', 'nickname', 'startedAt', 'agents'],
    ),
    AgentStatus: obj({ ready: bool(), chats: int(), maxChats: { type: ['integer', 'null'], description: 'null: no cap.' } }),
    // Admin API
    FileLimits: obj({
      enabled: bool(),
      maxFileSize: int(),
      maxFiles: int(),
      maxTotalSize: int(),
      fileTypes: arrayOf(str()),
      needAgent: bool(),
    }),
    IgnoredOption: obj({ option: str(), value: {}, reason: str() }),
    EffectiveService: obj(
      {
        name: str(),
        type: { const: 'request-chat' },
        ttl: int(),
        endpoint: str(),
        tenant: str(),
        enabled: bool(),
        maxMessageLength: int(),
        disconnectedStatus: { enum: [200, 400] },
        maxChats: int(),
        customerIdle: obj({ warningSeconds: int(), endSeconds: int() }),
        agentReminderSeconds: int(),
        description: str(),
        ignored: arrayOf(ref('IgnoredOption')),
        chatApiVersions: arrayOf({ enum: [1, 2] }),
        fileTransfer: ref('FileLimits'),
      },
      ['name', 'type', 'ttl', 'endpoint', 'enabled', 'maxMessageLength', 'disconnectedStatus', 'chatApiVersions', 'fileTransfer'],
      "A service's options as applied: the file's, GMS names mapped, defaults filled in.",
    ),
    EffectiveEndpoint: obj(
      endpointProperties,
      ['name', 'open', 'agents'],
      "An endpoint's options as applied; agents without their token hashes.",
    ),
    ListedEndpoint: obj(
      {
        ...endpointProperties,
        file: str(),
        loadedAt: { type: 'string', format: 'date-time' },
        waiting: int('Chats waiting now.'),
      },
      ['name', 'open', 'agents', 'file', 'loadedAt', 'waiting'],
    ),
    Rejection: obj(
      {
        file: str(),
        name: str(),
        problems: arrayOf(obj({ file: str(), field: str(), reason: str() })),
        rejectedAt: { type: 'string', format: 'date-time' },
        lastGoodServing: bool(),
      },
      ['file', 'problems', 'rejectedAt', 'lastGoodServing'],
    ),
    AdminService: adminOne(ref('EffectiveService')),
    AdminEndpoint: adminOne(ref('EffectiveEndpoint')),
    ChangeOutcome: obj(
      {
        action: { enum: ['create', 'replace', 'patch', 'delete'] },
        kind: { enum: ['service', 'endpoint'] },
        name: str(),
        file: str(),
        dryRun: bool(),
        created: bool(),
        etag: str('Absent once deleted.'),
        changes: arrayOf(obj({ option: str(), before: {}, after: {} }, ['option'])),
        before: { type: ['object', 'null'] },
        after: { type: ['object', 'null'] },
        options: {
          description: 'The options now applied (null on a dry run or a delete).',
          anyOf: [ref('EffectiveService'), ref('EffectiveEndpoint'), { type: 'null' }],
        },
      },
      ['action', 'kind', 'name', 'file', 'dryRun', 'created', 'changes', 'before', 'after', 'options'],
    ),
  };

  const serviceCalls = adminKind('service', 'ServiceFile', 'Service');
  const endpointCalls = adminKind('endpoint', 'EndpointFile', 'Endpoint');
  const paths: Record<string, Record<string, Operation>> = {
    // ---- Chat API v1 ----
    '/genesys/1/service/{name}': {
      post: {
        tags: ['Chat API v1'],
        summary: 'Create a service session (request-chat)',
        description: 'Every parameter other than `_verbose` and `_gateway_extras` is business data, kept for the agent.',
        parameters: [pathParam('name', 'The service name (its file in services.d/).')],
        requestBody: form(
          { ...V1_VERBOSE, _gateway_extras: str('`true` (ours): also `_service`, `_ttl`, `_endpoint`, `_data`.') },
          [],
          true,
        ),
        responses: { '200': ok(ref('V1Session')), ...errors([400, 404, 413, 415, 429, 500, 503], 'Error') },
      },
    },
    '/genesys/1/service/{id}/ixn/chat': {
      post: v1Op(
        'Start the chat',
        'Named parameters below; every other key is user data for the agent.',
        form(
          {
            ...V1_VERBOSE,
            firstName: str(),
            lastName: str(),
            email: str(),
            subject: str(),
            userDisplayName: str(),
            notify_by: { enum: ['comet'], description: '`comet`: every event is pushed over CometD (with `gms_user`).' },
            push_notification_deviceid: str(
              'The device token at its push provider (README "Push notifications to mobile apps").',
            ),
            push_notification_type: str('fcm, gcm, android, ios, customhttp, httpcb...: picks the provider (comet: none).'),
            push_notification_provider: str('A provider of push.d/ by name, instead of the choice by type.'),
            push_notification_language: str('The language of the notification text (en, fr, pt-BR).'),
            push_notification_debug: {
              enum: ['true', 'false'],
              description: 'true: a development build (the provider sandbox).',
            },
            subscriptionID: str('Handed back in every notification.'),
          },
          [],
          true,
        ),
        ref('V1Chat'),
      ),
    },
    '/genesys/1/service/{id}/ixn/chat/send': {
      post: v1Op(
        'Send a message',
        'Answers the events the session was not shown yet.',
        form({ ...V1_VERBOSE, message: str() }, ['message']),
        ref('V1Chat'),
      ),
    },
    '/genesys/1/service/{id}/ixn/chat/refresh': {
      post: v1Op(
        'Read the new events',
        'A non-empty `message` is sent first.',
        form({ ...V1_VERBOSE, ...V1_POSITION, message: str() }),
        ref('V1Chat'),
      ),
    },
    '/genesys/1/service/{id}/ixn/chat/refreshFromStart': {
      post: v1Op('Read the whole transcript', '', form(V1_VERBOSE), ref('V1Chat')),
    },
    '/genesys/1/service/{id}/ixn/chat/startTyping': { post: v1Op('The customer types', '', form(V1_VERBOSE), ref('V1Chat')) },
    '/genesys/1/service/{id}/ixn/chat/stopTyping': {
      post: v1Op('The customer stopped typing', '', form(V1_VERBOSE), ref('V1Chat')),
    },
    '/genesys/1/service/{id}/ixn/chat/disconnect': {
      post: v1Op('The customer leaves; the chat ends', '', form({ ...V1_VERBOSE, message: str() }), ref('V1Chat')),
    },

    // ---- Chat API v2 ----
    '/genesys/2/chat/{service}': {
      post: {
        tags: ['Chat API v2'],
        summary: 'Request a chat',
        description:
          "`userData[key]=value` parameters (or `userData` as a JSON object) are the chat's user data; `text` is a first message.",
        parameters: [pathParam('service', 'The service name; it must answer Chat API v2 (chatApiVersions).')],
        requestBody: form(
          {
            nickname: str(),
            firstName: str(),
            lastName: str(),
            emailAddress: str(),
            subject: str(),
            text: str(),
            userData: str('A JSON object.'),
          },
          [],
          true,
        ),
        responses: { '200': ok(ref('V2Answer')), ...errors([400, 404, 413, 415, 429, 500, 503], 'V2Error') },
      },
    },
    '/genesys/2/chat/{service}/{chatId}/refresh': {
      post: v2Op(
        'Read the messages',
        'From `transcriptPosition` on; without it, those not shown yet. A non-empty `message` is sent first.',
        { message: str() },
      ),
    },
    '/genesys/2/chat/{service}/{chatId}/readReceipt': { post: v2Op('Acknowledge messages read', 'Nothing is kept.') },
    '/genesys/2/chat/{service}/{chatId}/send': {
      post: v2Op('Send a message', '', { message: str(), messageType: str() }, ['message']),
    },
    '/genesys/2/chat/{service}/{chatId}/startTyping': { post: v2Op('The customer types', '') },
    '/genesys/2/chat/{service}/{chatId}/stopTyping': { post: v2Op('The customer stopped typing', '') },
    '/genesys/2/chat/{service}/{chatId}/disconnect': { post: v2Op('The customer leaves; the chat ends', '') },
    '/genesys/2/chat/{service}/{chatId}/updateNickname': {
      post: v2Op("Change the customer's nickname", '', { nickname: str() }, ['nickname']),
    },
    '/genesys/2/chat/{service}/{chatId}/customNotice': { post: v2Op('A custom notice to the agent', '', { message: str() }) },
    '/genesys/2/chat/{service}/{chatId}/pushUrl': {
      post: v2Op('A URL for the agent to open (http or https)', '', { pushUrl: str() }, ['pushUrl']),
    },
    '/genesys/2/chat/{service}/{chatId}/updateData': { post: v2Op("Add to the chat's user data", 'As `userData[key]=value`.') },
    '/genesys/2/chat/{service}/{chatId}/file/limits': {
      post: v2Op('The file limits of this chat and what the customer used', '', {}, [], ref('V2FileLimits')),
    },
    '/genesys/2/chat/{service}/{chatId}/file': {
      post: {
        ...v2Op(
          'Upload a file',
          'Multipart: the part `file`, the credentials and `userData[file-description]` as fields.',
          {},
          [],
          ref('V2Answer'),
        ),
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                required: ['userId', 'secureKey', 'file'],
                properties: { ...V2_CREDENTIALS, file: { type: 'string', contentMediaType: 'application/octet-stream' } },
              },
            },
          },
        },
      },
    },
    '/genesys/2/chat/{service}/{chatId}/file/{fileId}/download': {
      get: v2Download(),
      post: v2Download(),
    },
    '/genesys/2/chat/{service}/{chatId}/file/{fileId}/delete': {
      post: {
        ...v2Op('Delete a file the customer sent', '', {}, [], ref('V2Answer'), [403]),
        parameters: [...v2Path, pathParam('fileId', 'The file id.')],
      },
    },

    // ---- Agent API ----
    '/agent/v1/me': {
      get: agentOp('Who the token belongs to (ours)', '', {
        response: obj({ id: str(), nickname: str(), endpoints: arrayOf(str()), supervisor: bool() }),
      }),
    },
    '/agent/v1/canned-responses': {
      get: agentOp("The ready-made answers of the agent's endpoints (ours)", '', {
        response: obj({ responses: arrayOf(obj({ endpoint: str(), title: str(), text: str() })) }),
      }),
    },
    '/agent/v1/status': {
      get: agentOp("The agent's readiness and load (ours)", '', { response: ref('AgentStatus') }),
      post: agentOp('Set the agent ready or not ready', '', {
        response: ref('AgentStatus'),
        body: form({ ready: { enum: ['true', 'false', '1', '0'] } }, ['ready']),
      }),
    },
    '/agent/v1/chats': {
      get: agentOp(
        "The chats waiting in the agent's endpoints (oldest first), the agent's own, or (supervisors) those under way",
        "`live`: the chats with an agent in them in the supervisor's endpoints, longest-running first (at most 200); 403 for an agent who is not a supervisor.",
        {
          parameters: [
            { name: 'state', in: 'query', required: false, schema: { enum: ['waiting', 'mine', 'live'], default: 'waiting' } },
          ],
          response: obj({ chats: arrayOf({ anyOf: [ref('WaitingChat'), ref('AgentChat'), ref('LiveChat')] }) }),
        },
      ),
    },
    '/agent/v1/chats/{id}': { get: agentOp('A chat and its whole transcript', '', { parameters: agentChat }) },
    '/agent/v1/chats/{id}/accept': {
      post: agentOp(
        'Accept a waiting chat',
        '409 if another agent took it first, the agent is not ready or holds its most chats.',
        { parameters: agentChat, more: [409] },
      ),
    },
    '/agent/v1/chats/{id}/send': {
      post: agentOp('Send a message', '', { parameters: agentChat, body: form({ message: str() }, ['message']) }),
    },
    '/agent/v1/chats/{id}/typing': {
      post: agentOp('Typing notices', '', {
        parameters: agentChat,
        body: form({ typing: { enum: ['true', 'false', '1', '0'] } }, ['typing']),
      }),
    },
    '/agent/v1/chats/{id}/push-url': {
      post: agentOp('Push a URL (http or https)', '', { parameters: agentChat, body: form({ url: str() }, ['url']) }),
    },
    '/agent/v1/chats/{id}/notice': {
      post: agentOp('A custom notice', '', { parameters: agentChat, body: form({ text: str() }, ['text']) }),
    },
    '/agent/v1/agents': {
      get: agentOp("The other agents and supervisors of the agent's endpoints: whom to transfer to or invite (ours)", '', {
        response: obj({
          agents: arrayOf(
            obj({
              id: str(),
              nickname: str(),
              endpoints: arrayOf(str()),
              supervisor: bool(),
              ready: bool(),
              chats: int(),
              maxChats: { type: ['integer', 'null'] },
            }),
          ),
        }),
      }),
    },
    '/agent/v1/chats/{id}/transfer': {
      post: agentOp(
        'Transfer the chat to another agent, or back to a queue (ours)',
        'Exactly one of `agentId` (ready, below their cap) and `endpoint`. 409 when the chat moved on (another transfer, the customer left), the agent is not ready or full, or others are in the chat (to a queue).',
        { parameters: agentChat, body: form({ agentId: str(), endpoint: str() }), more: [409] },
      ),
    },
    '/agent/v1/chats/{id}/invite': {
      post: agentOp(
        'Invite another agent or a supervisor into the chat (a conference, ours)',
        '`silent` for supervisors only. 409 while the chat waits, or when they are in it already, not ready or full.',
        {
          parameters: agentChat,
          body: form({ agentId: str(), silent: { enum: ['true', 'false', '1', '0'] } }, ['agentId']),
          more: [409],
        },
      ),
    },
    '/agent/v1/chats/{id}/join': {
      post: agentOp(
        'A supervisor joins the chat on their own, seen or silent (ours)',
        '403 for agents. 409 while the chat waits.',
        {
          parameters: agentChat,
          body: form({ silent: { enum: ['true', 'false', '1', '0'] } }),
          more: [409],
        },
      ),
    },
    '/agent/v1/chats/{id}/whisper': {
      post: agentOp('A message for the agents in the chat only, never the customer (ours)', '', {
        parameters: agentChat,
        body: form({ message: str() }, ['message']),
      }),
    },
    '/agent/v1/chats/{id}/leave': {
      post: agentOp('Leave the chat (it ends for the customer), or close an ended one', '', { parameters: agentChat }),
    },
    '/agent/v1/chats/{id}/files': {
      post: agentOp('Send a file', "Multipart, the part `file`; within the service's `fileTransfer` limits.", {
        parameters: agentChat,
        body: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                required: ['file'],
                properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } },
              },
            },
          },
        },
      }),
    },
    '/agent/v1/chats/{id}/files/{fileId}': {
      get: {
        ...agentOp('Download a file of the chat', 'Always as an attachment, with the type decided by its name.', {
          parameters: [...agentChat, pathParam('fileId', 'The file id.')],
        }),
        responses: { '200': download(), ...errors(AGENT_ERRORS, 'Error') },
      },
    },
    '/agent/v1/chats/{id}/files/{fileId}/delete': {
      post: agentOp('Delete a file the agent sent', '', { parameters: [...agentChat, pathParam('fileId', 'The file id.')] }),
    },

    // ---- Admin API and operators' probes ----
    '/genesys/1/admin/services': {
      get: adminRead(
        'The services loaded and the service files refused now',
        ok(
          obj({
            services: arrayOf(
              obj(
                {
                  name: str(),
                  file: str(),
                  loadedAt: { type: 'string', format: 'date-time' },
                  options: ref('EffectiveService'),
                  ignored: arrayOf(ref('IgnoredOption')),
                },
                ['name', 'file', 'loadedAt', 'options'],
              ),
            ),
            rejected: arrayOf(ref('Rejection')),
          }),
        ),
      ),
      post: serviceCalls.create,
    },
    '/genesys/1/admin/services/{name}': serviceCalls.one,
    '/genesys/1/admin/endpoints': {
      get: adminRead(
        'The endpoints loaded (with their waiting chats) and the endpoint files refused now',
        ok(
          obj({
            endpoints: arrayOf(ref('ListedEndpoint')),
            rejected: arrayOf(ref('Rejection')),
          }),
        ),
      ),
      post: endpointCalls.create,
    },
    '/genesys/1/admin/endpoints/{name}': endpointCalls.one,
    '/genesys/1/admin/overview': {
      get: adminRead(
        'Chats per service and endpoint, agents with their load',
        ok(
          obj({
            node: str(),
            chats: {
              anyOf: [
                { type: 'null' },
                obj({
                  at: { type: 'string', format: 'date-time' },
                  connected: int(),
                  waiting: { type: 'object', additionalProperties: { type: 'integer' } },
                  services: { type: 'object' },
                }),
              ],
              description: "The last expiry sweep's census (null before the first).",
            },
            agents: arrayOf(obj({ id: str(), nickname: str(), endpoints: arrayOf(str()), chats: int(), listening: int() })),
          }),
        ),
      ),
    },
    '/genesys/1/admin/nodes': {
      get: adminRead(
        "Every node's configuration version",
        ok(
          obj({
            node: str('This node.'),
            nodes: arrayOf(
              obj({
                node: str(),
                revision: int(),
                digest: str(),
                seenAt: { type: 'string', format: 'date-time' },
                version: str('r<revision>-<digest>'),
              }),
            ),
          }),
        ),
      ),
    },
    '/genesys/1/admin/schemas/{kind}': {
      get: adminRead(
        'The JSON schema of service or endpoint files',
        ok({ type: 'object' }, 'The schema', 'application/schema+json'),
        [{ name: 'kind', in: 'path', required: true, schema: { enum: ['service', 'endpoint'] } }],
      ),
    },
    '/metrics': {
      get: {
        tags: ['Operators'],
        summary: 'Prometheus metrics',
        security: [{ adminToken: [] }],
        responses: { '200': ok({ type: 'string' }, 'The Prometheus text format', 'text/plain'), ...errors([401, 500], 'Error') },
      },
    },
    '/healthz': {
      get: {
        tags: ['Operators'],
        summary: 'The gateway is up',
        security: [],
        responses: { '200': ok(obj({ status: { const: 'ok' }, services: int() })) },
      },
    },
    '/openapi.json': {
      get: {
        tags: ['Operators'],
        summary: 'This document',
        security: [],
        responses: { '200': ok({ type: 'object', required: ['openapi', 'paths'] }), ...errors([429], 'Error') },
      },
    },
    '/demo/service/{name}': {
      get: {
        tags: ['Chat API v1'],
        summary: 'What the demo widget needs to know of a service (ours)',
        security: [],
        parameters: [pathParam('name', 'The service name.')],
        responses: {
          '200': ok(obj({ service: str(), enabled: bool(), maxMessageLength: int() })),
          ...errors([404, 429, 500], 'Error'),
        },
      },
    },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'GMS chat gateway',
      version: VERSION,
      description:
        'The customer APIs of Genesys Mobile Services (Chat API v1 and Chat API Version 2), the agent API of the built-in endpoint, and the admin API. CometD push (/genesys/cometd) is Bayeux, not described here: see the README.',
    },
    servers: [{ url: '/' }],
    // The customer APIs take no token; the agent and admin operations say which they need.
    security: [],
    tags: [{ name: 'Chat API v1' }, { name: 'Chat API v2' }, { name: 'Agent API' }, { name: 'Admin API' }, { name: 'Operators' }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        agentToken: { type: 'http', scheme: 'bearer', description: 'An agent token (endpoints.d/, kept hashed).' },
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'An admin token (ADMIN_TOKENS); none configured: loopback callers only.',
        },
      },
    },
  };
}

function adminOne(options: Schema): Schema {
  return obj(
    {
      name: str(),
      file: str(),
      etag: str(),
      source: {
        type: ['object', 'null'],
        description: "The file's content as written (agent token hashes hidden from read-only tokens).",
      },
      options: { anyOf: [options, { type: 'null' }] },
      loadedAt: { type: 'string', format: 'date-time' },
      problems: arrayOf(obj({ field: str(), reason: str() })),
      lastGoodServing: bool(),
    },
    ['name', 'file', 'options'],
  );
}

function download(): Record<string, unknown> {
  return {
    description: 'The file, as an attachment (Content-Disposition), never inline.',
    headers: { 'Content-Disposition': { schema: { type: 'string' } } },
    content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
  };
}

function v2Download(): Operation {
  return {
    tags: ['Chat API v2'],
    summary: 'Download a file of the chat',
    description: 'The credentials in the query string (links) or in the body.',
    parameters: [
      ...v2Path,
      pathParam('fileId', 'The file id.'),
      { name: 'userId', in: 'query', required: false, schema: { type: 'string' } },
      { name: 'secureKey', in: 'query', required: false, schema: { type: 'string' } },
    ],
    responses: { '200': download(), ...errors(V2_ERRORS, 'V2Error') },
  };
}

/** GET /openapi.json: the document, built when first asked for (not at every start) and kept. */
export function openApiRoutes(): Router {
  const router = new Router();
  let body: string | undefined;
  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = body ??= JSON.stringify(openApiDocument());
  });
  return router;
}
