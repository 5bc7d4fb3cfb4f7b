export { createU2fHandler, type RequestLogEntry, type U2fAppOptions } from './app.js';
export { defaultServerDbPath } from './default-db.js';
export { HttpError, SERVER_ERROR } from './http-error.js';
export { escapeHtml, renderIndexPage, type IndexPage } from './page.js';
export { PendingRequests, type PendingOptions } from './pending.js';
export { DEFAULT_BODY_LIMIT, readBody, readParams, type RequestParams } from './request-params.js';
export { startU2fServer, type RunningU2fServer, type U2fServerOptions } from './server.js';
export { DuplicateKeyHandleError, ServerStore, type StoredKey } from './store.js';
