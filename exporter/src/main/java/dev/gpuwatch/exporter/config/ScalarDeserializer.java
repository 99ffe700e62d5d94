package dev.gpuwatch.exporter.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import java.io.IOException;
import java.util.Optional;
import java.util.function.Function;

/** Reads a value written as one YAML scalar with the same parser its flag uses; the error says what was expected. */
final class ScalarDeserializer<T> extends StdScalarDeserializer<T> {
    private final Function<String, Optional<T>> parser;
    private final String expected;

    ScalarDeserializer(Class<T> type, Function<String, Optional<T>> parser, String expected) {
        super(type);
        this.parser = parser;
        this.expected = expected;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        JsonToken t = p.currentToken();
        if (!t.isScalarValue() || t == JsonToken.VALUE_NULL) {
            return (T) ctxt.handleUnexpectedToken(handledType(), p);
        }
        String text = p.getText();
        return parser.apply(text).orElseThrow(() -> InvalidFormatException.from(p, expected, text, handledType()));
    }
}
