package dev.gpuwatch.exporter;

import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** One logfmt line per event on stderr, like Prometheus's own exporters: {@code ts=... level=info logger=sampler msg="..."}. */
final class Logging {
    private Logging() {}

    static void configure(Level level) {
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        ConsoleHandler handler = new ConsoleHandler();
        handler.setLevel(level);
        handler.setFormatter(new LogfmtFormatter());
        root.addHandler(handler);
        root.setLevel(level);
    }

    static final class LogfmtFormatter extends Formatter {
        @Override
        public String format(LogRecord r) {
            String msg = formatMessage(r);
            if (r.getThrown() != null) {
                msg = msg + ": " + r.getThrown();
            }
            return "ts=" + Instant.ofEpochMilli(r.getMillis()) + " level=" + level(r.getLevel()) + " logger="
                    + r.getLoggerName() + " msg=\"" + msg.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"\n";
        }

        private static String level(Level l) {
            if (l.intValue() >= Level.SEVERE.intValue()) {
                return "error";
            }
            if (l.intValue() >= Level.WARNING.intValue()) {
                return "warn";
            }
            return l.intValue() >= Level.INFO.intValue() ? "info" : "debug";
        }
    }
}
