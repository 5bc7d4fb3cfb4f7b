export {
  runClient,
  U2fClient,
  type ClientOptions,
  type ClientResult,
  type ClientStep,
  type ClientStepName,
} from './client.js';
export { callServer, type HttpCall } from './http.js';
export {
  readEnrollAnswer,
  readSignAnswer,
  readVerifyAnswer,
  type EnrollAnswer,
  type SignAnswer,
  type SignCandidate,
  type VerifyAnswer,
} from './server-answers.js';
