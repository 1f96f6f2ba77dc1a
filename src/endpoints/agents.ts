// Who the agents are, as the rest of the gateway sees them: the agent REST API and the agent CometD
// channels both authenticate through this interface; the endpoint files implement it.

export interface Agent {
  id: string;
  nickname: string;
  /** The endpoints whose chats this agent may see and accept. */
  endpoints: string[];
}

export interface AgentDirectory {
  /** The agent holding this bearer token, compared in constant time; undefined when none does. */
  authenticate(token: string): Agent | undefined;
  /** The agents serving an endpoint (they are told of its new waiting chats). */
  agentsOf(endpoint: string): Agent[];
}
