// The agent client package: the wire protocol, command signatures, the HTTP client and the native
// (Temporal worker) client, in one import. Only a NativeAgent's start() loads @temporalio/worker.
export * from './protocol';
export * from './signature';
export * from './http-agent';
export * from './native-agent';
export * from './work-items';
