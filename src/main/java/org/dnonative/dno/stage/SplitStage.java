package org.dnonative.dno.stage;

import org.dnonative.dno.PromptFile;
import org.dnonative.dno.PromptRecord;
import org.dnonative.dno.Seeds;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.config.EndpointConfig;
import org.dnonative.dno.config.TeacherConfig;
import org.dnonative.dno.embedded.EmbeddedModel;
import org.dnonative.dno.store.PromptEntry;
import org.dnonative.oracle.builtin.AnswerStyle;
import org.dnonative.oracle.builtin.ArithmeticTask;
import org.dnonative.oracle.judge.OpenAiTeacher;
import org.dnonative.oracle.judge.RetryPolicy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Iteration 0: the prompt set, shuffled once, with the teacher's gold responses, split into the
 * held-out evaluation prompts and one part per iteration. Written once, so a resumed run never asks
 * a teacher endpoint again.
 */
public final class SplitStage implements Stage {
    @Override
    public String name() { return "split"; }

    @Override
    public void run(RunContext run, int t) {
        DnoConfig c = run.config();
        List<PromptRecord> all = promptSet(c);
        if (c.teacher().kind() == TeacherConfig.Kind.ENDPOINT) all = withTeacherResponses(run, c.teacher().endpoint(), all);
        PromptPlan plan = PromptPlan.of(c, all.size());
        List<PromptEntry> entries = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) entries.add(new PromptEntry(String.format("p%04d", i), all.get(i).prompt(), all.get(i).gold()));
        List<PromptEntry> eval;
        List<PromptEntry> train;
        if (c.prompts().hasEvalFile()) {
            List<PromptRecord> file = PromptFile.read(Path.of(c.prompts().evalFile()));
            eval = new ArrayList<>();
            for (int i = 0; i < file.size(); i++) eval.add(new PromptEntry(String.format("e%04d", i), file.get(i).prompt(), file.get(i).gold()));
            train = entries;
        } else {
            eval = new ArrayList<>();
            for (PromptEntry e : entries.subList(0, plan.evalHeldOut())) eval.add(new PromptEntry("e" + e.id().substring(1), e.prompt(), e.gold()));
            train = entries.subList(plan.evalHeldOut(), entries.size());
        }
        List<List<PromptEntry>> parts = new ArrayList<>();
        for (int i = 0; i < c.iterations(); i++) parts.add(train.subList(i * plan.perIteration(), (i + 1) * plan.perIteration()));
        run.store().writeSplit(eval, parts);
    }

    /** The prompts, shuffled by the run's seed, with the gold responses the teacher setting keeps. */
    static List<PromptRecord> promptSet(DnoConfig c) {
        List<PromptRecord> all = new ArrayList<>();
        TeacherConfig.Kind teacher = c.teacher().kind();
        if (c.prompts().builtin()) {
            Random styles = new Random(Seeds.derive(c.seed(), 0, Seeds.Stage.TEACHER));
            boolean gold = teacher != TeacherConfig.Kind.NONE && teacher != TeacherConfig.Kind.ENDPOINT;
            for (ArithmeticTask task : EmbeddedModel.tasks(c.embedded()).shuffled(Seeds.derive(c.seed(), 0, Seeds.Stage.SPLIT))) {
                AnswerStyle style = AnswerStyle.values()[styles.nextInt(AnswerStyle.values().length)];
                all.add(new PromptRecord(task.prompt(), gold ? style.render(task) : null));
            }
        } else {
            all.addAll(PromptFile.read(Path.of(c.prompts().file())));
            Collections.shuffle(all, new Random(Seeds.derive(c.seed(), 0, Seeds.Stage.SPLIT)));
            if (teacher == TeacherConfig.Kind.NONE) all.replaceAll(r -> new PromptRecord(r.prompt(), null));
        }
        return all;
    }

    /** Asks the teacher endpoint for the gold response of every prompt that has none. */
    private static List<PromptRecord> withTeacherResponses(RunContext run, EndpointConfig t, List<PromptRecord> all) {
        OpenAiTeacher teacher = new OpenAiTeacher(t.baseUrl(), t.model(), t.apiKeyEnv(), Duration.ofMillis((long) (t.timeoutSeconds() * 1000)),
                t.concurrency(), 0.0, 1024, RetryPolicy.defaults(), System::getenv);
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) if (all.get(i).gold() == null) missing.add(i);
        List<String> answers = teacher.respond(missing.stream().map(i -> all.get(i).prompt()).toList());
        List<PromptRecord> out = new ArrayList<>(all);
        int failed = 0;
        for (int k = 0; k < missing.size(); k++) {
            if (answers.get(k) == null) failed++;
            else out.set(missing.get(k), new PromptRecord(all.get(missing.get(k)).prompt(), answers.get(k)));
        }
        if (failed > 0) run.tell("teacher: no usable answer for %d of %d prompts (they get no gold response)", failed, missing.size());
        return out;
    }
}
