package org.dnonative.oracle.judge;

/** The endpoint answered, but not in a form the judge can use; asking again may help. */
final class MalformedAnswerException extends Exception {
    MalformedAnswerException(String message) {
        super(message);
    }
}
