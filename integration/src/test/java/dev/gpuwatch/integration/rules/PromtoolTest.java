package dev.gpuwatch.integration.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.gpuwatch.integration.Repository;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.prometheus.Promtool;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every rule file passes `promtool check rules`; every unit-test file passes `promtool test rules`. */
class PromtoolTest {

    @TestFactory
    Stream<DynamicTest> ruleFilesAreValid() {
        List<Path> files = RuleFiles.ruleFiles();
        assertFalse(files.isEmpty(), "no rules/*.rules.yml");
        return files.stream().map(file -> DynamicTest.dynamicTest("check " + file.getFileName(),
                () -> assertPromtool(List.of("check", "rules", file.toString()), file.getParent())));
    }

    @TestFactory
    Stream<DynamicTest> unitTestsPass() {
        List<Path> files = RuleFiles.testFiles();
        assertFalse(files.isEmpty(), "no rules/tests/*.test.yml");
        // promtool resolves rule_files relative to the test file's directory.
        return files.stream().map(file -> DynamicTest.dynamicTest("test " + file.getFileName(),
                () -> assertPromtool(List.of("test", "rules", file.getFileName().toString()), file.getParent())));
    }

    private static void assertPromtool(List<String> args, Path dir) {
        ChildProcess.Finished result = Promtool.run(dir, args);
        assertEquals(0, result.exitCode(),
                () -> "promtool " + String.join(" ", args) + " failed in " + Repository.root().relativize(dir) + ":\n"
                        + result.output());
    }
}
