export {
  runClient,
  U2fClient,
  type ClientOptions,
  type ClientResult,
  type ClientStep,
  type ClientStepName,
  type VerifyAnswer,
} from './client.js';
export { callServer, type HttpCall } from './http.js';
