// The Responses API translation for chat-only upstreams (issue 14): request, response, stream, store, ids.
export { needsOf, previousNotFound, toChatRequest, type ChatTranslation, type ResponsesNeeds, type TranslateOptions } from './request.ts';
export { deletedBody, fromChatCompletion, outputMessages } from './response.ts';
export { ChatToResponsesStream, encodeEvent, encodeEvents } from './stream.ts';
export { conversationOf, ResponseStore, type ResponseOwner, type ResponseStoreOptions } from './store.ts';
export { newId } from './ids.ts';
export type * from './types.ts';
