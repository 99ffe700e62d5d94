package dev.gpuwatch.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * A binary's command line, Prometheus style ({@code --web.listen-address=:9445} or {@code --web.listen-address :9445},
 * {@code --[no-]collector.xid}, {@code --help}). Most flags stand for a key of the config file and become
 * {@link Overrides}, so they are parsed and checked exactly as the key is; the rest ({@code --config.file}) are
 * handed to the binary as text.
 */
public final class FlagSet {

    /**
     * One flag. {@code key} is the config-file key it overrides (dotted, snake_case), or empty for a flag the binary
     * reads itself. A switch takes no value ({@code --x} is {@code --x=true}) and has a negative form
     * ({@code --no-x} is {@code --x=false}), as Prometheus's boolean flags do. A repeatable flag for a key sets that
     * key to the list of every value given.
     */
    public record Flag(String name, String key, String paramLabel, String description, boolean isSwitch,
            boolean repeatable) {

        /** A flag for config key {@code key}. */
        public static Flag forKey(String name, String key, String paramLabel, String description) {
            return new Flag(name, key, paramLabel, description, false, false);
        }

        /** A true/false flag for config key {@code key}: {@code --name}, {@code --no-name} or {@code --name=false}. */
        public static Flag switchForKey(String name, String key, String description) {
            return new Flag(name, key, "", description, true, false);
        }

        /**
         * A flag for the list-valued config key {@code key}: given several times or as a comma-separated list
         * ({@code --pid=1 --pid=2,3}), it sets the key to every value in order.
         */
        public static Flag listForKey(String name, String key, String paramLabel, String description) {
            return new Flag(name, key, paramLabel, description, false, true);
        }

        /** A flag the binary reads itself. */
        public static Flag plain(String name, String paramLabel, String description) {
            return new Flag(name, "", paramLabel, description, false, false);
        }

        /** A flag the binary reads itself that may be given several times. */
        public static Flag repeated(String name, String paramLabel, String description) {
            return new Flag(name, "", paramLabel, description, false, true);
        }
    }

    /** What the command line said. */
    public record Parsed(boolean help, boolean version, Overrides overrides, Map<String, List<String>> plain) {

        /** The last value of a plain flag. */
        public java.util.Optional<String> value(String flag) {
            List<String> values = plain.getOrDefault(flag, List.of());
            return values.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(values.getLast());
        }

        /** Every value of a repeated flag, in order. */
        public List<String> values(String flag) {
            return plain.getOrDefault(flag, List.of());
        }
    }

    private final String program;
    private final String description;
    private final List<Flag> flags;

    public FlagSet(String program, String description, List<Flag> flags) {
        this.program = program;
        this.description = description;
        this.flags = List.copyOf(flags);
    }

    public Parsed parse(String... args) throws ConfigException {
        CommandLine line = new CommandLine(spec());
        line.setUnmatchedOptionsArePositionalParams(false);
        ParseResult result;
        try {
            result = line.parseArgs(args);
        } catch (CommandLine.UnmatchedArgumentException e) {
            List<String> unmatched = e.getUnmatched();
            throw ConfigException.inFlag(unmatched.isEmpty() ? "command line" : unmatched.getFirst(),
                    "unknown flag (see --help)");
        } catch (CommandLine.MissingParameterException e) {
            if (!e.getMissing().isEmpty() && e.getMissing().getFirst() instanceof OptionSpec o) {
                throw ConfigException.inFlag(o.longestName(), "needs a value " + o.paramLabel());
            }
            throw ConfigException.inFlag("command line", e.getMessage());
        } catch (CommandLine.ParameterException e) {
            String flag = e.getArgSpec() instanceof OptionSpec o ? o.longestName() : "command line";
            // a switch's value that is not true or false: the converter's own words, without picocli's prefix
            String problem = e.getCause() instanceof CommandLine.TypeConversionException t ? t.getMessage() : e.getMessage();
            throw ConfigException.inFlag(flag, problem);
        }
        Overrides overrides = Overrides.none();
        Map<String, List<String>> plain = new LinkedHashMap<>();
        for (Flag flag : flags) {
            OptionSpec option = result.matchedOption(flag.name());
            if (option == null) {
                continue;
            }
            List<String> values = option.stringValues();
            if (flag.isSwitch()) {
                // picocli has resolved --x, --no-x and --x=false into the option's value
                overrides.put(flag.key(), flag.name(), String.valueOf(option.<Boolean>getValue()));
            } else if (flag.key().isEmpty()) {
                plain.put(flag.name(), List.copyOf(values));
            } else if (flag.repeatable()) {
                overrides.putList(flag.key(), flag.name(), values);
            } else {
                overrides.put(flag.key(), flag.name(), values.getLast());
            }
        }
        return new Parsed(result.isUsageHelpRequested(), result.isVersionHelpRequested(), overrides, plain);
    }

    /** The text {@code --help} prints. */
    public String help() {
        return new CommandLine(spec()).getUsageMessage(CommandLine.Help.Ansi.OFF);
    }

    private CommandSpec spec() {
        CommandSpec spec = CommandSpec.create().name(program);
        spec.negatableOptionTransformer(DottedNegation.INSTANCE); // before the options: it names their negations
        spec.usageMessage().description(description).sortOptions(false);
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help and exit.").build());
        spec.addOption(OptionSpec.builder("--version").versionHelp(true).description("Show the version and exit.").build());
        for (Flag flag : flags) {
            OptionSpec.Builder b = OptionSpec.builder(flag.name()).description(flag.description()).type(String.class);
            if (flag.isSwitch()) {
                b.type(Boolean.class).negatable(true).arity("0..1").paramLabel("true|false").converters(FlagSet::bool);
            } else {
                b.arity("1").paramLabel(flag.paramLabel());
            }
            if (flag.repeatable()) {
                b.type(List.class).auxiliaryTypes(String.class);
                if (!flag.key().isEmpty()) {
                    b.splitRegex(",");
                }
            }
            spec.addOption(b.build());
        }
        return spec;
    }

    /** A switch's value, as the file reads a boolean. */
    private static Boolean bool(String text) {
        if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(text);
        }
        throw new CommandLine.TypeConversionException("expected true or false, got \"" + text + "\"");
    }

    /**
     * {@code --x.y} is negated as {@code --no-x.y}: picocli's own pattern does not allow the dots of Prometheus
     * flag names.
     */
    private enum DottedNegation implements CommandLine.INegatableOptionTransformer {
        INSTANCE;

        @Override
        public String makeNegative(String optionName, CommandSpec cmd) {
            return optionName.startsWith("--no-") ? "--" + optionName.substring(5) : "--no-" + optionName.substring(2);
        }

        @Override
        public String makeSynopsis(String optionName, CommandSpec cmd) {
            return "--[no-]" + optionName.substring(2);
        }
    }

    /** The names of every flag, for tests that check the help lists them all. */
    public List<String> names() {
        List<String> names = new ArrayList<>();
        for (Flag f : flags) {
            names.add(f.name());
        }
        return names;
    }
}
