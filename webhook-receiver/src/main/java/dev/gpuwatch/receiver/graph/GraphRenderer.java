package dev.gpuwatch.receiver.graph;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TimeZone;
import java.util.TreeSet;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.DateAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.time.FixedMillisecond;
import org.jfree.data.time.TimeSeries;
import org.jfree.data.time.TimeSeriesCollection;

/**
 * Draws an alert's graph as a PNG with JFreeChart, without a display (headless AWT): one line per series with a
 * legend of the labels that tell the series apart, the threshold as a red dashed line, the firing interval shaded,
 * the y-axis in the metric's unit. Bounded: {@link PrometheusClient#MAX_SERIES} lines, {@link #WIDTH} x
 * {@link #HEIGHT} pixels, {@link #MAX_PNG_BYTES}.
 */
final class GraphRenderer {

    static final int WIDTH = 800;
    static final int HEIGHT = 360;
    /** A larger PNG is not sent: Slack, mail and PagerDuty all take this much without trouble. */
    static final int MAX_PNG_BYTES = 512 * 1024;
    /** The threshold's colour; no series colour is close to it, so a reader (and a test) can tell it apart. */
    static final Color THRESHOLD = new Color(0xD6, 0x00, 0x1C);
    static final Color FIRING = new Color(0xFF, 0xB3, 0x40, 70);
    private static final int MAX_LEGEND_CHARS = 90;
    /** Colour-blind-friendly (Okabe-Ito without its red) and far from {@link #THRESHOLD}. */
    private static final Color[] PALETTE = {
        new Color(0x00, 0x72, 0xB2), new Color(0x00, 0x9E, 0x73), new Color(0xE6, 0x9F, 0x00),
        new Color(0x56, 0xB4, 0xE9), new Color(0xCC, 0x79, 0xA7), new Color(0x44, 0x44, 0x44),
        new Color(0xF0, 0xE4, 0x42), new Color(0x7F, 0x3C, 0x8D)
    };

    static {
        // no display on a server; must be set before the first AWT class loads
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** What to draw: the series, the threshold, the firing interval and the window. */
    record Chart(String title, List<PrometheusClient.Series> series, int omitted, Optional<PromQl.Threshold> threshold,
            Unit unit, Instant firingSince, Instant from, Instant to) {
        Chart {
            series = List.copyOf(series);
        }
    }

    private GraphRenderer() {}

    /** The PNG, or empty when it would exceed {@link #MAX_PNG_BYTES}. */
    static Optional<byte[]> render(Chart c) throws IOException {
        TimeSeriesCollection data = new TimeSeriesCollection(TimeZone.getTimeZone("UTC"));
        List<String> legends = legends(c.series());
        for (int i = 0; i < c.series().size(); i++) {
            TimeSeries ts = new TimeSeries(legends.get(i) + (legends.subList(0, i).contains(legends.get(i)) ? " #" + i : ""));
            for (PrometheusClient.Sample s : c.series().get(i).samples()) {
                if (!Double.isNaN(s.value()) && !Double.isInfinite(s.value())) {
                    ts.addOrUpdate(new FixedMillisecond(s.at().toEpochMilli()), s.value());
                }
            }
            data.addSeries(ts);
        }
        String title = shorten(c.title(), 110) + (c.omitted() > 0 ? "  (+" + c.omitted() + " more series not shown)" : "");
        JFreeChart chart = ChartFactory.createTimeSeriesChart(title, "UTC", c.unit().axisLabel(), data,
                !c.series().isEmpty(), false, false);
        chart.setAntiAlias(true);
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
        plot.setRangeGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
        XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < c.series().size(); i++) {
            lines.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            lines.setSeriesStroke(i, new BasicStroke(2f));
            // a series of a few points (new, or sparse) would be invisible as a line: its points are drawn too
            lines.setSeriesShapesVisible(i, c.series().get(i).samples().size() < 10);
        }
        plot.setRenderer(lines);
        DateAxis time = (DateAxis) plot.getDomainAxis();
        time.setTimeZone(TimeZone.getTimeZone("UTC"));
        // a series younger than the window (a new exporter, a new GPU) is drawn across the chart, not in its last pixels
        Instant first = c.series().stream().filter(s -> s.samples().size() >= 2).flatMap(s -> s.samples().stream())
                .map(PrometheusClient.Sample::at).min(Instant::compareTo).filter(t -> t.isAfter(c.from())).orElse(c.from());
        Instant start = first.isBefore(c.to()) ? first : c.from();
        time.setRange(new java.util.Date(start.toEpochMilli()), new java.util.Date(c.to().toEpochMilli()));
        NumberAxis value = (NumberAxis) plot.getRangeAxis();
        value.setNumberFormatOverride(new UnitFormat(c.unit()));
        value.setAutoRangeIncludesZero(false);
        IntervalMarker firing = new IntervalMarker(Math.max(start.toEpochMilli(), c.firingSince().toEpochMilli()),
                c.to().toEpochMilli());
        firing.setPaint(FIRING);
        firing.setLabel("firing");
        firing.setLabelAnchor(RectangleAnchor.TOP_LEFT);
        firing.setLabelTextAnchor(TextAnchor.TOP_LEFT);
        plot.addDomainMarker(firing, Layer.BACKGROUND);
        c.threshold().ifPresent(t -> {
            ValueMarker marker = new ValueMarker(t.value());
            marker.setPaint(THRESHOLD);
            marker.setStroke(new BasicStroke(3f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 5f}, 0f));
            marker.setLabel(t.operator() + " " + c.unit().format(t.value()));
            marker.setLabelPaint(THRESHOLD);
            marker.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
            marker.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
            plot.addRangeMarker(marker, Layer.FOREGROUND);
            // the threshold stays in view even when every value is far from it
            double lo = Math.min(value.getLowerBound(), t.value());
            double hi = Math.max(value.getUpperBound(), t.value());
            double pad = (hi - lo) * 0.05 + (hi == lo ? Math.max(1e-9, Math.abs(hi) * 0.1 + 0.5) : 0);
            value.setRange(lo - pad, hi + pad);
        });
        if (c.series().isEmpty()) {
            chart.addSubtitle(new org.jfree.chart.title.TextTitle("no data in this window"));
        }
        BufferedImage image = chart.createBufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB, null);
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        ImageIO.write(image, "png", out);
        return out.size() > MAX_PNG_BYTES ? Optional.empty() : Optional.of(out.toByteArray());
    }

    /**
     * Each series named by the labels whose values differ between the series ({@code gpu="1"}), so a legend is
     * short; a lone series by all its labels. Without labels: the series' position.
     */
    static List<String> legends(List<PrometheusClient.Series> series) {
        Set<String> keys = new TreeSet<>();
        series.forEach(s -> keys.addAll(s.labels().keySet()));
        Set<String> differing = new TreeSet<>();
        for (String k : keys) {
            if (series.stream().map(s -> s.labels().getOrDefault(k, "")).distinct().count() > 1) {
                differing.add(k);
            }
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < series.size(); i++) {
            Map<String, String> labels = series.get(i).labels();
            Set<String> shown = series.size() == 1 ? labels.keySet() : differing;
            String legend = shown.stream().filter(labels::containsKey)
                    .map(k -> k + "=\"" + labels.get(k) + "\"").collect(Collectors.joining(", "));
            out.add(legend.isEmpty() ? "series " + (i + 1) : shorten(legend, MAX_LEGEND_CHARS));
        }
        return out;
    }

    private static String shorten(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }

    /** The y-axis ticks in the metric's unit. */
    private static final class UnitFormat extends NumberFormat {
        private final Unit unit;

        UnitFormat(Unit unit) {
            this.unit = unit;
        }

        @Override
        public StringBuffer format(double number, StringBuffer to, FieldPosition pos) {
            return to.append(unit.format(number));
        }

        @Override
        public StringBuffer format(long number, StringBuffer to, FieldPosition pos) {
            return to.append(unit.format(number));
        }

        @Override
        public Number parse(String source, ParsePosition pos) {
            return null;
        }
    }
}
