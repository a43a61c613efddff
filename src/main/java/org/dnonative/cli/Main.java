package org.dnonative.cli;

import java.io.IOException;
import java.io.UncheckedIOException;

import org.dnonative.io.SafetensorsException;
import org.dnonative.kernel.DnoException;
import org.dnonative.model.ModelException;
import org.dnonative.model.tokenizer.TokenizerException;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The dno-native command line: {@code java -jar dno-native.jar <subcommand>}. Exit codes: 0 done,
 * 1 an unexpected failure, 2 bad input (arguments, files, tensors, configuration).
 */
@Command(name = "dno-native", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Direct Nash Optimization on the JVM: fused native DNO loss kernels, a libtorch policy, preference oracles.",
        subcommands = {LossCommand.class, GenerateCommand.class, LogprobsCommand.class, PolicyBenchCommand.class, TrainCommand.class, EvalCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static final int EXIT_BAD_INPUT = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        // the native libraries first, one process at a time (concurrent first loads crashed: NativeLibraries)
        if (loadsNatives(args)) {
            try {
                org.dnonative.model.NativeLibraries.load();
            } catch (RuntimeException | LinkageError e) {
                // the command that needs them reports the failure to load them itself
            }
        }
        // freed host memory kept for reuse: large tensors are otherwise page-faulted anew every step
        if (!"off".equals(System.getenv("DNO_KEEP_FREED_MEMORY"))) {
            try {
                org.dnonative.kernel.HostMemory.keepFreed();
            } catch (RuntimeException | LinkageError e) {
                // only a speed-up: a command that needs the native library reports a failure to load it itself
            }
        }
        System.exit(commandLine().execute(args));
    }

    /** Whether a command line runs a command (not only help or the version), which loads the native libraries. */
    static boolean loadsNatives(String[] args) {
        if (args.length == 0 || "help".equals(args[0])) return false;
        for (String a : args)
            if (a.equals("-h") || a.equals("--help") || a.equals("-V") || a.equals("--version")) return false;
        return true;
    }

    /** The configured command line, also used by tests. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        TrainFlags.addTo(cl.getSubcommands().get("train").getCommandSpec());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            boolean badInput = isBadInput(ex);
            cmd.getErr().println("error: " + message(ex));
            // a run stopped by an endpoint (down, or answering nothing usable) says why in its message
            if (!badInput && !(ex instanceof org.dnonative.dno.stage.EndpointStoppedException)
                    && !(ex instanceof org.dnonative.oracle.judge.JudgeTransportException)
                    && !(ex instanceof org.dnonative.dist.DistributedException)) ex.printStackTrace(cmd.getErr());
            return badInput ? EXIT_BAD_INPUT : 1;
        });
        return cl;
    }

    static boolean isBadInput(Throwable ex) {
        return ex instanceof IllegalArgumentException || ex instanceof IOException || ex instanceof UncheckedIOException
                || ex instanceof SafetensorsException || ex instanceof CommandLine.ParameterException
                || ex instanceof ModelException || ex instanceof TokenizerException
                || (ex instanceof DnoException d && d.status() != DnoException.Status.INTERNAL
                        && d.status() != DnoException.Status.CUDA);
    }

    static String message(Throwable ex) {
        String m = ex.getMessage();
        return m == null || m.isBlank() ? ex.toString() : m;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"dno-native " + (v == null ? "(development build)" : v)};
        }
    }
}
