package dev.gpuwatch.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

class LogfmtTest {

    @Test
    void oneLinePerRecordWithTheThrowableAsAField() {
        LogRecord r = new LogRecord(Level.WARNING, "delivery {0} failed");
        r.setParameters(new Object[] {7});
        r.setInstant(Instant.parse("2026-12-03T10:00:00.123Z"));
        r.setLoggerName("dev.gpuwatch.receiver.dispatch.Dispatcher");
        r.setThrown(new IllegalStateException("line one\nline \"two\""));
        assertEquals("ts=2026-12-03T10:00:00.123Z level=warn logger=dispatch.Dispatcher msg=\"delivery 7 failed\""
                + " err=\"java.lang.IllegalStateException: line one\\nline \\\"two\\\"\"\n",
                new Logfmt.LogfmtFormatter().format(r));
    }

    @Test
    void debugIsForGpuwatchsOwnLoggersOnly() {
        Logfmt.configure(LogLevel.DEBUG);
        assertTrue(Logger.getLogger("dev.gpuwatch.receiver.dispatch.Dispatcher").isLoggable(Level.FINE));
        assertFalse(Logger.getLogger("org.eclipse.jetty.server.Server").isLoggable(Level.FINE));
        assertTrue(Logger.getLogger("org.eclipse.jetty.server.Server").isLoggable(Level.INFO));

        Logfmt.configure(LogLevel.WARN);
        assertFalse(Logger.getLogger("dev.gpuwatch.receiver.dispatch.Dispatcher").isLoggable(Level.INFO));
        assertFalse(Logger.getLogger("org.eclipse.jetty.server.Server").isLoggable(Level.INFO));
        Logfmt.configure(LogLevel.INFO);
    }
}
