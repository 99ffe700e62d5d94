package dev.gpuwatch.receiver.enrich;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A link template with {@code {placeholder}}s: {@code {runbook_base_url}} and {@code {grafana_url}} are
 * inserted as configured; {@code {alertname}}, {@code {alertname_lower}}, {@code {labels.NAME}} and
 * {@code {annotations.NAME}} come from the alert and are URL-encoded, so a label value can neither add a
 * path segment nor a query parameter. An unknown placeholder is an error when the catalog loads.
 */
record UrlTemplate(String source, List<String> parts) {

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([a-zA-Z0-9_.]+)}");

    static UrlTemplate parse(String source) {
        List<String> parts = new ArrayList<>();
        Matcher m = PLACEHOLDER.matcher(source);
        int last = 0;
        while (m.find()) {
            String name = m.group(1);
            if (!(name.equals("runbook_base_url") || name.equals("grafana_url") || name.equals("alertname")
                    || name.equals("alertname_lower") || isScoped(name, "labels.") || isScoped(name, "annotations."))) {
                throw new IllegalArgumentException("unknown placeholder {" + name + "} in " + source
                        + "; known: {runbook_base_url} {grafana_url} {alertname} {alertname_lower}"
                        + " {labels.NAME} {annotations.NAME}");
            }
            parts.add(source.substring(last, m.start()));
            parts.add("{" + name);
            last = m.end();
        }
        parts.add(source.substring(last));
        return new UrlTemplate(source, List.copyOf(parts));
    }

    String expand(Map<String, String> labels, Map<String, String> annotations, Map<String, String> bases) {
        StringBuilder out = new StringBuilder();
        for (String part : parts) {
            if (!part.startsWith("{")) {
                out.append(part);
                continue;
            }
            String name = part.substring(1);
            if (bases.containsKey(name)) {
                out.append(stripTrailingSlash(bases.get(name)));
            } else if (name.equals("alertname")) {
                out.append(Links.encode(labels.getOrDefault("alertname", "")));
            } else if (name.equals("alertname_lower")) {
                out.append(Links.encode(labels.getOrDefault("alertname", "").toLowerCase(Locale.ROOT)));
            } else if (name.startsWith("labels.")) {
                out.append(Links.encode(labels.getOrDefault(name.substring("labels.".length()), "")));
            } else {
                out.append(Links.encode(annotations.getOrDefault(name.substring("annotations.".length()), "")));
            }
        }
        return out.toString();
    }

    private static boolean isScoped(String name, String prefix) {
        return name.startsWith(prefix) && name.length() > prefix.length();
    }

    static String stripTrailingSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
