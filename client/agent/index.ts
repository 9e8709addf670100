// The agent client package: the wire protocol, command signatures and the HTTP client, in one import.
export * from './protocol';
export * from './signature';
export * from './http-agent';
