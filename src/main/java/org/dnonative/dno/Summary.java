package org.dnonative.dno;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.DatasetRenderingOrder;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

import org.dnonative.io.AtomicFiles;

/** The end-of-run summary table and the PNG plot of the run per iteration. */
public final class Summary {
    private Summary() {}

    public static String table(List<ObjectNode> metrics, int best) {
        boolean eq = metrics.stream().anyMatch(m -> m.has("exploitability"));
        boolean correct = metrics.stream().anyMatch(m -> m.has("correct"));
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-5s %6s %8s %8s %15s %15s", "iter", "pairs", "loss", "margin", "wr vs prev", "wr vs start"));
        if (eq) sb.append(String.format(" %8s %8s", "exploit", "pooled"));
        if (correct) sb.append(String.format(" %8s %20s", "correct", "styles b/s/e"));
        sb.append('\n');
        for (ObjectNode m : metrics) {
            int t = m.get("iteration").asInt();
            sb.append(String.format("%-5s %6d %8s %8s %15s %15s", t + (t == best ? "*" : ""), m.path("pairs").asInt(),
                    num(m.get("loss"), "%.4f"), num(m.get("reward_margin"), "%.3f"),
                    rate(m, "winrate_vs_prev"), rate(m, "winrate_vs_start")));
            if (eq) sb.append(String.format(" %8s %8s", num(m.get("exploitability"), "%.3f"), num(m.get("pooled_exploitability"), "%.3f")));
            if (correct) sb.append(String.format(" %8s %20s", num(m.get("correct"), "%.3f"),
                    num(m.get("style_bare"), "%.2f") + "/" + num(m.get("style_sentence"), "%.2f") + "/" + num(m.get("style_equation"), "%.2f")));
            sb.append('\n');
        }
        sb.append("(iteration 0 is the starting policy pi_1; row t evaluates pi_{t+1}; * = best by win-rate vs start)\n");
        return sb.toString();
    }

    private static String rate(ObjectNode m, String key) {
        JsonNode v = m.get(key);
        if (v == null || v.isNull()) return "-";
        JsonNode ci = m.get(key + "_ci95");
        return ci == null || ci.isNull() ? String.format("%.3f", v.asDouble()) : String.format("%.3f±%.3f", v.asDouble(), ci.asDouble());
    }

    private static String num(JsonNode v, String format) {
        return v == null || v.isNull() || !v.isNumber() ? "-" : String.format(format, v.asDouble());
    }

    /**
     * The run at a glance, as a PNG written atomically. Top panel (0..1): win-rate against the start
     * with its 95% band, win-rate against the previous iterate, exploitability, correctness and the
     * style shares (dashed) when the oracle reports them. Bottom panel: the DNO loss (ln 2 is where
     * it starts, the dotted line) and the reward margin, which say whether training moved the policy.
     */
    public static void plot(List<ObjectNode> metrics, Path png) {
        System.setProperty("java.awt.headless", "true");
        YIntervalSeries band = new YIntervalSeries("win-rate vs start (95% interval)");
        XYSeries prev = new XYSeries("win-rate vs previous"), exploit = new XYSeries("exploitability"),
                correct = new XYSeries("correct"), bare = new XYSeries("style: bare"),
                sentence = new XYSeries("style: sentence"), equation = new XYSeries("style: equation");
        XYSeries loss = new XYSeries("DNO loss"), margin = new XYSeries("reward margin");
        for (ObjectNode m : metrics) {
            int t = m.get("iteration").asInt();
            if (m.path("winrate_vs_start").isNumber()) {
                double v = m.get("winrate_vs_start").asDouble(), ci = m.path("winrate_vs_start_ci95").asDouble(0);
                band.add(t, v, v - ci, v + ci);
            }
            add(prev, t, m, "winrate_vs_prev");
            add(exploit, t, m, "exploitability");
            add(correct, t, m, "correct");
            add(bare, t, m, "style_bare");
            add(sentence, t, m, "style_sentence");
            add(equation, t, m, "style_equation");
            add(loss, t, m, "loss");
            add(margin, t, m, "reward_margin");
        }
        NumberAxis x = new NumberAxis("iteration (0 = the starting policy)");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());

        YIntervalSeriesCollection bandData = new YIntervalSeriesCollection();
        bandData.addSeries(band);
        NumberAxis rateAxis = new NumberAxis("win-rate / exploitability / share");
        rateAxis.setRange(0, 1);
        DeviationRenderer bandRenderer = new DeviationRenderer(true, true);
        bandRenderer.setSeriesPaint(0, new Color(0, 90, 200));
        bandRenderer.setSeriesFillPaint(0, new Color(0, 90, 200));
        bandRenderer.setAlpha(0.25f);
        bandRenderer.setSeriesStroke(0, new BasicStroke(2.5f));
        XYPlot rates = new XYPlot(bandData, null, rateAxis, bandRenderer);
        XYSeriesCollection lines = new XYSeriesCollection();
        Color[] colors = {new Color(120, 170, 230), new Color(200, 40, 40), new Color(30, 150, 60),
                Color.GRAY, new Color(200, 120, 0), new Color(140, 60, 170)};
        XYLineAndShapeRenderer lineRenderer = new XYLineAndShapeRenderer(true, true);
        int i = 0;
        for (XYSeries s : List.of(prev, exploit, correct, bare, sentence, equation)) {
            if (s.getItemCount() == 0) continue;
            lines.addSeries(s);
            lineRenderer.setSeriesPaint(i, colors[List.of(prev, exploit, correct, bare, sentence, equation).indexOf(s)]);
            boolean style = s == bare || s == sentence || s == equation;
            lineRenderer.setSeriesStroke(i, style ? dashed(1.2f) : new BasicStroke(2f));
            i++;
        }
        rates.setDataset(1, lines);
        rates.setRenderer(1, lineRenderer);
        rates.setDatasetRenderingOrder(DatasetRenderingOrder.FORWARD);
        rates.addRangeMarker(marker(0.5));
        style(rates);

        XYSeriesCollection training = new XYSeriesCollection();
        training.addSeries(loss);
        training.addSeries(margin);
        NumberAxis lossAxis = new NumberAxis("loss / reward margin");
        lossAxis.setAutoRangeIncludesZero(true);
        XYLineAndShapeRenderer trainRenderer = new XYLineAndShapeRenderer(true, true);
        trainRenderer.setSeriesPaint(0, Color.DARK_GRAY);
        trainRenderer.setSeriesPaint(1, new Color(0, 140, 140));
        trainRenderer.setSeriesStroke(0, new BasicStroke(2f));
        trainRenderer.setSeriesStroke(1, new BasicStroke(2f));
        XYPlot train = new XYPlot(training, null, lossAxis, trainRenderer);
        train.addRangeMarker(marker(Math.log(2)));
        style(train);

        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(x);
        plot.setGap(12);
        plot.add(rates, 3);
        plot.add(train, 1);
        JFreeChart chart = new JFreeChart("DNO: each iterate against the start, and the oracle's equilibrium",
                JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(bytes, chart, 900, 760);
            AtomicFiles.writeBytes(png, bytes.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(png + ": " + e.getMessage(), e);
        }
    }

    private static void add(XYSeries s, int t, ObjectNode m, String key) {
        if (m.path(key).isNumber()) s.add(t, m.get(key).asDouble());
    }

    private static BasicStroke dashed(float width) {
        return new BasicStroke(width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[]{6f, 4f}, 0f);
    }

    private static ValueMarker marker(double value) {
        ValueMarker m = new ValueMarker(value, Color.GRAY, new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER,
                1f, new float[]{2f, 3f}, 0f));
        return m;
    }

    private static void style(XYPlot p) {
        p.setBackgroundPaint(Color.WHITE);
        p.setDomainGridlinePaint(Color.LIGHT_GRAY);
        p.setRangeGridlinePaint(Color.LIGHT_GRAY);
    }
}
