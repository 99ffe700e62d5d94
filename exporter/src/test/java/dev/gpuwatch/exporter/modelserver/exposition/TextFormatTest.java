package dev.gpuwatch.exporter.modelserver.exposition;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TextFormatTest {

    private static Exposition parse(String text) throws Exception {
        return TextFormat.parse(text, 1000);
    }

    @Test
    void readsLabelsWithEscapesAndTrailingComma() throws Exception {
        Exposition e = parse("""
                # HELP m A metric with "quotes" and \\\\ in help.
                # TYPE m gauge
                m{a="x\\"y",b="back\\\\slash",c="new\\nline",} 1.5
                m 2
                """);
        List<Sample> s = e.samples("m");
        assertEquals(2, s.size());
        assertEquals(Map.of("a", "x\"y", "b", "back\\slash", "c", "new\nline"), s.get(0).labels());
        assertEquals(1.5, s.get(0).value());
        assertEquals(Map.of(), s.get(1).labels());
        assertEquals("gauge", e.type("m").orElseThrow());
    }

    @Test
    void readsSpecialValuesTimestampsAndBlanks() throws Exception {
        Exposition e = parse("a NaN\nb +Inf 1712345678000\nc -Inf\nd nan\ne 1e+06\t\n\n   \nf{x=\"1\"}\t-0.5 -12\n");
        assertTrue(Double.isNaN(e.samples("a").get(0).value()));
        assertEquals(Double.POSITIVE_INFINITY, e.samples("b").get(0).value());
        assertEquals(Double.NEGATIVE_INFINITY, e.samples("c").get(0).value());
        assertTrue(Double.isNaN(e.samples("d").get(0).value()));
        assertEquals(1e6, e.samples("e").get(0).value());
        assertEquals(-0.5, e.samples("f").get(0).value());
    }

    @Test
    void acceptsOpenMetricsEndAndExemplars() throws Exception {
        Exposition e = parse("# TYPE c counter\n# UNIT c seconds\nc_total 3 # {trace_id=\"a\"} 1\n# EOF\n");
        assertEquals(3, e.samples("c_total").get(0).value());
        assertThrows(ParseException.class, () -> parse("a 1\n# EOF\nb 2\n"));
    }

    @Test
    void keepsTheFirstOfDuplicateSeriesAndCountsTheRest() throws Exception {
        Exposition e = parse("a{x=\"1\"} 1\na{x=\"1\"} 2\na{x=\"2\"} 3\n");
        assertEquals(List.of(1.0, 3.0), e.samples("a").stream().map(Sample::value).toList());
        assertEquals(1, e.duplicates());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "a 1",                              // no final newline: truncated body
        "a{x=\"1} 1\n",                      // unterminated value
        "a{x=\"\\t\"} 1\n",                  // unknown escape
        "a{x=\"1\",x=\"2\"} 1\n",            // label twice
        "a{1x=\"1\"} 1\n",                   // bad label name
        "a{x=1} 1\n",                        // unquoted value
        "a\n",                               // no value
        "a 1.0f\n",                          // Java-only number syntax
        "a 0x10\n",
        "a 1 2 3\n",                         // text after the timestamp
        "a 1 soon\n",                        // bad timestamp
        "<html><body>502 Bad Gateway</body></html>\n",
        "# TYPE a gauge\n# TYPE a counter\na 1\n",
        "# HELP a x\n# HELP a y\na 1\n",
        "# TYPE a histogrammm\na 1\n",
        "{x=\"1\"} 1\n",
    })
    void rejectsMalformedBodies(String body) {
        assertThrows(ParseException.class, () -> parse(body));
    }

    @Test
    void stopsAtTheSeriesLimit() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            b.append("a{i=\"").append(i).append("\"} 1\n");
        }
        assertThrows(TextFormat.TooManySeriesException.class, () -> TextFormat.parse(b.toString(), 10));
    }

    /** A body that fails the test if it is read past {@code readable} bytes: proof that parsing stopped early. */
    private static InputStream endless(String head, String repeated, long readable) {
        byte[] h = head.getBytes(StandardCharsets.UTF_8);
        byte[] r = repeated.getBytes(StandardCharsets.UTF_8);
        return new InputStream() {
            private long position;

            @Override
            public int read() {
                assertTrue(position < readable, "read past " + readable + " bytes");
                long p = position++;
                return (p < h.length ? h[(int) p] : r[(int) ((p - h.length) % r.length)]) & 0xff;
            }
        };
    }

    private static TextFormat.Limits limits(int maxSeries, int maxLabel) {
        return TextFormat.Limits.of(maxSeries, maxLabel);
    }

    @Test
    void readsAStreamLikeTheSameText() throws Exception {
        String body = "# TYPE a gauge\na{x=\"\u00e9\"} 1\r\nb 2\n";
        Exposition e = TextFormat.read(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), limits(10, 64));
        assertEquals("\u00e9", e.samples("a").getFirst().labelOrEmpty("x"));
        assertEquals(List.of(2.0), e.samples("b").stream().map(Sample::value).toList());
        assertEquals(Optional.of("gauge"), e.type("a"));
    }

    @Test
    void stopsReadingAtTheSeriesLimit() {
        // distinct series without end: the 11th ends the read, within the reader's one 8 KiB read-ahead
        InputStream in = new InputStream() {
            private int line;
            private long read;
            private byte[] current = new byte[0];
            private int at;

            @Override
            public int read() {
                assertTrue(++read < 2 * 8192, "read on past the 11th series");
                if (at == current.length) {
                    current = ("a{i=\"" + line++ + "\"} 1\n").getBytes(StandardCharsets.UTF_8);
                    at = 0;
                }
                return current[at++];
            }
        };
        TextFormat.TooManySeriesException e = assertThrows(TextFormat.TooManySeriesException.class,
                () -> TextFormat.read(in, limits(10, 64)));
        assertEquals("more than 10 series", e.getMessage());
    }

    @Test
    void refusesALabelValueOverTheLimitInBytes() {
        // 64 bytes pass; 65 do not, counted in UTF-8 (32 two-byte characters are 64 bytes)
        assertDoesNotThrow(() -> read("a{x=\"" + "\u00e9".repeat(32) + "\"} 1\n", limits(10, 64)));
        TextFormat.LabelTooLongException e = assertThrows(TextFormat.LabelTooLongException.class,
                () -> read("a 1\nb{y=\"1\",x=\"" + "\u00e9".repeat(32) + "z\"} 1\n", limits(10, 64)));
        assertEquals("line 2: the value of label x is longer than 64 bytes", e.getMessage());
    }

    @Test
    void aHugeLabelValueIsRefusedBeforeItsLineIsHeld() {
        // the limit on lines is 64 KiB here; the value would go on for ever, read only to that limit
        long readable = TextFormat.Limits.MIN_LINE_BYTES + 8192 * 2;
        TextFormat.LabelTooLongException e = assertThrows(TextFormat.LabelTooLongException.class,
                () -> TextFormat.read(endless("a 1\nvllm:x{a=\"b\", model_name=\"", "m", readable), limits(10, 1024)));
        assertEquals("line 2: the value of label model_name is longer than 1024 bytes", e.getMessage());
    }

    @Test
    void refusesALineOverTheLimit() {
        long readable = TextFormat.Limits.MIN_LINE_BYTES + 8192 * 2;
        ParseException e = assertThrows(ParseException.class,
                () -> TextFormat.read(endless("a 1\n# HELP a ", "help ", readable), limits(10, 1024)));
        assertEquals("line 2: longer than 65536 bytes", e.getMessage());
        ParseException sample = assertThrows(ParseException.class,
                () -> TextFormat.read(endless("", "a", readable), limits(10, 1024)));
        assertEquals("line 1: longer than 65536 bytes", sample.getMessage());
    }

    @Test
    void refusesInvalidUtf8() {
        byte[] overlong = {'a', '{', 'x', '=', '"', (byte) 0xC0, (byte) 0x80, '"', '}', ' ', '1', '\n'};
        ParseException e = assertThrows(ParseException.class,
                () -> TextFormat.read(new ByteArrayInputStream(overlong), limits(10, 64)));
        assertEquals("line 1: not valid UTF-8", e.getMessage());
    }

    @Test
    void aStreamWithoutItsFinalNewlineIsTruncated() {
        ParseException e = assertThrows(ParseException.class, () -> read("a 1\nb 2", limits(10, 64)));
        assertEquals("line 2: body does not end with a newline (truncated?)", e.getMessage());
    }

    private static Exposition read(String body, TextFormat.Limits limits) throws Exception {
        return TextFormat.read(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), limits);
    }

    @Test
    void groupsHistogramsByLabelsWithoutLe() throws Exception {
        Exposition e = parse("""
                # TYPE h histogram
                h_bucket{m="a",le="+Inf"} 10
                h_bucket{m="a",le="0.5"} 4
                h_bucket{m="a",le="1.0"} 7
                h_sum{m="a"} 6.5
                h_count{m="a"} 10
                h_bucket{m="b",le="1"} 1
                h_bucket{m="b",le="+Inf"} 2
                h_sum{m="b"} 1
                """);
        List<Exposition.Histogram> hs = e.histograms("h");
        assertEquals(2, hs.size());
        Exposition.Histogram a = hs.get(0);
        assertEquals(Map.of("m", "a"), a.labels());
        assertEquals(List.of(0.5, 1.0, Double.POSITIVE_INFINITY), boxed(a.upperBounds()));
        assertEquals(List.of(4.0, 7.0, 10.0), boxed(a.cumulativeCounts()));
        assertEquals(6.5, a.sum());
        assertEquals(2.0, hs.get(1).count());
    }

    @Test
    void leavesOutHistogramsThatAreNotWellFormed() throws Exception {
        Exposition e = parse("""
                no_inf_bucket{le="1"} 1
                no_inf_sum 1
                decreasing_bucket{le="1"} 5
                decreasing_bucket{le="+Inf"} 3
                decreasing_sum 1
                wrong_count_bucket{le="+Inf"} 3
                wrong_count_sum 1
                wrong_count_count 4
                no_sum_bucket{le="+Inf"} 3
                nan_bucket{le="+Inf"} NaN
                nan_sum 1
                """);
        for (String base : List.of("no_inf", "decreasing", "wrong_count", "no_sum", "nan")) {
            assertEquals(List.of(), e.histograms(base), base);
        }
    }

    private static List<Double> boxed(double[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }
}
