package dev.gpuwatch.integration.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.gpuwatch.integration.Processes;
import dev.gpuwatch.integration.Repository;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every rule file passes `promtool check rules`; every unit-test file passes `promtool test rules`. */
class PromtoolTest {

    private static final String PROMTOOL = "/usr/bin/promtool";

    @TestFactory
    Stream<DynamicTest> ruleFilesAreValid() {
        List<Path> files = RuleFiles.ruleFiles();
        assertFalse(files.isEmpty(), "no rules/*.rules.yml");
        return files.stream().map(file -> DynamicTest.dynamicTest("check " + file.getFileName(),
                () -> assertPromtool(List.of(PROMTOOL, "check", "rules", file.toString()), file.getParent())));
    }

    @TestFactory
    Stream<DynamicTest> unitTestsPass() {
        List<Path> files = RuleFiles.testFiles();
        assertFalse(files.isEmpty(), "no rules/tests/*.test.yml");
        // promtool resolves rule_files relative to the test file's directory.
        return files.stream().map(file -> DynamicTest.dynamicTest("test " + file.getFileName(),
                () -> assertPromtool(List.of(PROMTOOL, "test", "rules", file.getFileName().toString()),
                        file.getParent())));
    }

    private static void assertPromtool(List<String> command, Path dir) {
        Processes.Result result = Processes.run(dir, command, 120);
        assertEquals(0, result.exitCode(),
                () -> String.join(" ", command) + " failed in " + Repository.root().relativize(dir) + ":\n"
                        + result.output());
    }
}
