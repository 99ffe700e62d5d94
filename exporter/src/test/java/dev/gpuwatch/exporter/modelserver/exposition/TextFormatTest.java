package dev.gpuwatch.exporter.modelserver.exposition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
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
