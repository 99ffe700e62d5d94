package dev.gpuwatch.config;

import java.util.Arrays;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A value type written as one scalar, in a file or a flag, with its parser and what a user is told when it does not
 * parse. The same {@code Scalar} reads the flag and the file key, so both accept exactly the same text.
 */
public record Scalar<T>(Class<T> type, Function<String, Optional<T>> parser, String expected) {

    /** The types every reader knows: durations, byte sizes and listen addresses. */
    static final java.util.List<Scalar<?>> BUILT_IN = java.util.List.of(
            new Scalar<>(java.time.Duration.class, Durations::parse, Durations.EXPECTED),
            new Scalar<>(ByteSize.class, ByteSize::parse, ByteSize.EXPECTED),
            new Scalar<>(ListenAddress.class, ListenAddress::parse, ListenAddress.EXPECTED));

    public static <T> Scalar<T> of(Class<T> type, Function<String, Optional<T>> parser, String expected) {
        return new Scalar<>(type, parser, expected);
    }

    /** An enum written by a label of its own ({@code h100-80gb}, {@code xid79-gpu-lost}), case-insensitively. */
    public static <E extends Enum<E>> Scalar<E> labelled(Class<E> type, Function<E, String> label) {
        E[] values = type.getEnumConstants();
        String expected = "expected one of " + Arrays.stream(values).map(label).collect(Collectors.joining(", "));
        return new Scalar<>(type, text -> Arrays.stream(values)
                .filter(v -> label.apply(v).equalsIgnoreCase(text.strip())).findFirst(), expected);
    }

    /** Parses {@code text}, or says what was expected. */
    public T parseOrThrow(String text) {
        return parser.apply(text).orElseThrow(() -> InvalidValue.here(expected + ", got \"" + text + "\""));
    }
}
