package org.dnonative.oracle.judge;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The parts of a chat-completions response the judge uses.
 *
 * @param content  {@code choices[0].message.content}
 * @param logprobs {@code choices[0].logprobs.content} (an array of tokens with their top_logprobs), or null
 */
record ChatReply(String content, JsonNode logprobs) {
}
