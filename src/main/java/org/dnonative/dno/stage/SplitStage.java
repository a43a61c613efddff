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
import org.dnonative.oracle.judge.JudgeUnavailableException;
import org.dnonative.oracle.judge.OpenAiTeacher;
import org.dnonative.oracle.judge.RetryPolicy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
            // The held-out prompts are the first evalHeldOut of the shuffled set; with prompts.validation
            // the next evalHeldOut are held out instead and the first take their place in training.
            int held = plan.evalHeldOut();
            int from = c.prompts().validation() ? held : 0;
            eval = new ArrayList<>();
            for (PromptEntry e : entries.subList(from, from + held)) eval.add(new PromptEntry("e" + e.id().substring(1), e.prompt(), e.gold()));
            train = new ArrayList<>(entries.subList(0, from));
            train.addAll(entries.subList(from + held, entries.size()));
        }
        List<List<PromptEntry>> parts = new ArrayList<>();
        for (int i = 0; i < plan.parts(); i++) parts.add(train.subList(i * plan.perIteration(), (i + 1) * plan.perIteration()));
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

    /**
     * Asks the teacher endpoint for the gold response of every prompt that has none. Its answers are
     * cached in the run's oracle cache as they come, so a run killed before the split is saved asks
     * only the prompts it had no answer for; an endpoint down for longer than its patience, or too
     * many unusable answers, stop the run (exit 1) before the split is saved.
     */
    private static List<PromptRecord> withTeacherResponses(RunContext run, EndpointConfig t, List<PromptRecord> all) {
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) if (all.get(i).gold() == null) missing.add(i);
        List<OpenAiTeacher.Answer> answers;
        try (OpenAiTeacher teacher = new OpenAiTeacher(t.baseUrl(), t.model(), t.apiKeyEnv(), t.timeout(), t.concurrency(), 0.0, 1024,
                RetryPolicy.patient(t.patience()), System::getenv, run.store().directory().oracleCache())) {
            answers = teacher.answer(missing.stream().map(i -> all.get(i).prompt()).toList());
        } catch (JudgeUnavailableException e) {
            throw new EndpointStoppedException(e.getMessage() + "; the answers had so far are cached: `train --resume "
                    + run.store().root() + "` asks only the missing ones", e);
        }
        List<PromptRecord> out = new ArrayList<>(all);
        Map<String, Integer> why = new LinkedHashMap<>();
        for (int k = 0; k < missing.size(); k++) {
            OpenAiTeacher.Answer a = answers.get(k);
            if (a.usable()) out.set(missing.get(k), new PromptRecord(all.get(missing.get(k)).prompt(), a.text()));
            else why.merge(EndpointStoppedException.cause(a.detail()), 1, Integer::sum);
        }
        int unusable = why.values().stream().mapToInt(Integer::intValue).sum();
        if (unusable > 0) {
            String causes = EndpointStoppedException.causes(why);
            run.tell("teacher: no usable answer for %d of %d prompts (%s)", unusable, missing.size(), causes);
            if (t.tooManyUnusable(unusable, missing.size()))
                throw new EndpointStoppedException("teacher " + t.model() + " at " + t.baseUrl() + ": " + unusable + " of " + missing.size()
                        + " answers unusable, more than teacher.endpoint.max_unusable_share (" + t.maxUnusableShare() + "): " + causes, null);
        }
        return out;
    }
}
