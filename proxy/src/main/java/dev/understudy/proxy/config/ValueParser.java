package dev.understudy.proxy.config;

/**
 * Turns the text of one configuration value into its typed value. {@code form} says what is
 * accepted ("an integer between 1 and 65535"); it is both the reference's Value column and, after
 * "must be", the error when the text does not fit.
 */
record ValueParser<T>(String form, Function<T> function) {

    @FunctionalInterface
    interface Function<T> {
        /** @throws InvalidValueException without a message when the text is not of the form, or with a more precise problem */
        T apply(String text) throws InvalidValueException;
    }

    /**
     * @throws InvalidValueException with a problem phrased to follow {@code "key: "}; the caller
     *     adds the offending value unless the key is secret
     */
    T parse(String text) throws InvalidValueException {
        try {
            return function.apply(text);
        } catch (InvalidValueException e) {
            throw e.getMessage() == null ? new InvalidValueException("must be " + form) : e;
        }
    }

    /** What a parser throws; carries no key and no value, only what was wrong. */
    static final class InvalidValueException extends Exception {
        private static final long serialVersionUID = 1L;

        /** The text is not of the parser's form. */
        InvalidValueException() {
            this(null);
        }

        InvalidValueException(String problem) {
            super(problem, null, false, false);
        }
    }
}
