// Who the agents are, as the rest of the gateway sees them: the agent REST API and the agent CometD
// channels both authenticate through this interface; the endpoint files implement it.
// An agent is an id *with its token*: one id declared with different tokens in two endpoint files is
// two agents, kept apart everywhere by the endpoints each token serves.

export interface Agent {
  id: string;
  nickname: string;
  /** The endpoints whose chats this agent may see and accept: those listing this id with this token. */
  endpoints: string[];
  /** The most chats the agent holds at once (its endpoint files; the smallest if they differ); undefined for no cap. */
  maxChats?: number;
  /** Listed as a supervisor (`"role": "supervisor"`) in an endpoint file of this token: may join chats on their own, silently too. */
  supervisor?: boolean;
}

export interface AgentDirectory {
  /** The agent holding this bearer token, compared in constant time; undefined when none does. */
  authenticate(token: string): Agent | undefined;
  /** The agents serving an endpoint (they are told of its new waiting chats), each with all its endpoints. */
  agentsOf(endpoint: string): Agent[];
}

/** The ready-made answers of an endpoint's file, for the agents' console. */
export interface CannedResponses {
  cannedResponses(endpoint: string): Array<{ title: string; text: string }>;
}
