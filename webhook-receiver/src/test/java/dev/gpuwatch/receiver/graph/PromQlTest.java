package dev.gpuwatch.receiver.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PromQlTest {

    @Test
    void theExpressionComesFromG0ExprOfTheGeneratorUrl() {
        String expr = "gpu:gpu_memory_used:ratio{uuid=~\"GPU-.*\"} > 0.95";
        assertEquals(Optional.of(expr), PromQl.expression("http://prom:9090/graph?g0.expr="
                + URLEncoder.encode(expr, StandardCharsets.UTF_8) + "&g0.tab=1"));
        assertEquals(Optional.empty(), PromQl.expression("http://prom:9090/graph"));
        assertEquals(Optional.empty(), PromQl.expression("http://prom:9090/graph?g0.tab=1"));
        assertEquals(Optional.empty(), PromQl.expression(""));
        assertEquals(Optional.empty(), PromQl.expression("not a url ^"));
    }

    /** Expressions of rules/ as Prometheus hands them on: what is drawn, the threshold, the unit. */
    @ParameterizedTest
    @CsvSource(delimiterString = " § ", textBlock = """
            gpu:gpu_memory_used:ratio > 0.95 § gpu:gpu_memory_used:ratio § > 0.95 § RATIO
            up{job="gpuwatch-exporter"} == 0 § up{job="gpuwatch-exporter"} § == 0.0 § NONE
            gpuwatch_exporter_sample_age_seconds > 60 § gpuwatch_exporter_sample_age_seconds § > 60.0 § SECONDS
            inference_model_state{state!="ready"} == 1 § inference_model_state{state!="ready"} § == 1.0 § NONE
            gpu:gpu_xid_errors:increase5m{xid=~"48|64|74"} > 0 § gpu:gpu_xid_errors:increase5m{xid=~"48|64|74"} § > 0.0 § NONE
            avg_over_time(gpu_utilization_ratio[1h]) < 0.05 and gpu:gpu_memory_used:ratio > 0.1 § avg_over_time(gpu_utilization_ratio[1h]) § < 0.05 § RATIO
            histogram_quantile(0.95, sum by (job, le) (rate(inference_time_to_first_token_seconds_bucket[5m]))) > 2.5 § histogram_quantile(0.95, sum by (job, le) (rate(inference_time_to_first_token_seconds_bucket[5m]))) § > 2.5 § SECONDS
            max by (job, instance) (gpu_clock_event_active{reason=~"a|b"}) == 1 § max by (job, instance) (gpu_clock_event_active{reason=~"a|b"}) § == 1.0 § NONE
            increase(kube_pod_container_status_restarts_total[15m]) >= 2 and on (namespace, pod) x § increase(kube_pod_container_status_restarts_total[15m]) § >= 2.0 § NONE
            (max by (pod) (container_memory_working_set_bytes{c!=""}) / max by (pod) (kube_pod_container_resource_limits{resource="memory"})) > 0.9 and on (pod) y § max by (pod) (container_memory_working_set_bytes{c!=""}) / max by (pod) (kube_pod_container_resource_limits{resource="memory"}) § > 0.9 § RATIO
            0.9 < gpu_temperature_celsius § gpu_temperature_celsius § > 0.9 § CELSIUS
            rate(inference_preemptions_total[5m]) > bool 0 § rate(inference_preemptions_total[5m]) § > 0.0 § NONE
            gpu_power_usage_watts § gpu_power_usage_watts § none § WATTS
            sum(rate(a_total[5m])) / sum(rate(b_total[5m])) § sum(rate(a_total[5m])) / sum(rate(b_total[5m])) § none § RATIO
            ( model:inference_request_errors:ratio_rate1h / (1 - scalar(o:r:ratio)) > 14.4 and x > 1 ) or (y > 6) § model:inference_request_errors:ratio_rate1h / (1 - scalar(o:r:ratio)) § > 14.4 § RATIO
            gpu_memory_used_bytes{a=">"} >= 1e9 § gpu_memory_used_bytes{a=">"} § >= 1.0E9 § BYTES
            """)
    void planDrawsTheConditionWithoutItsFilter(String expr, String query, String threshold, Unit unit) {
        PromQl.Plan plan = PromQl.plan(expr);
        assertEquals(query, plan.query());
        assertEquals(threshold, plan.threshold().map(t -> t.operator() + " " + t.value()).orElse("none"));
        assertEquals(unit, plan.unit(), "unit of " + expr);
    }

    @Test
    void valuesAreWrittenInTheirUnit() {
        assertEquals("95%", Unit.RATIO.format(0.95));
        assertEquals("71.2 GiB", Unit.BYTES.format(71.2 * 1024 * 1024 * 1024));
        assertEquals("250 ms", Unit.SECONDS.format(0.25));
        assertEquals("2.5 s", Unit.SECONDS.format(2.5));
        assertEquals("83 °C", Unit.CELSIUS.format(83));
        assertEquals("0.333", Unit.NONE.format(1.0 / 3));
    }
}
