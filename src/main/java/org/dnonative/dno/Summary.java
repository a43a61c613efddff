package org.dnonative.dno;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

import org.dnonative.io.AtomicFiles;

/** The end-of-run summary table and the PNG plot of win-rates and loss per iteration. */
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

    /** Win-rates (left axis) and training loss (right axis) per iteration, as a PNG written atomically. */
    public static void plot(List<ObjectNode> metrics, Path png) {
        System.setProperty("java.awt.headless", "true");
        XYSeries prev = new XYSeries("win-rate vs previous"), start = new XYSeries("win-rate vs start"), loss = new XYSeries("loss");
        XYSeries exploit = new XYSeries("exploitability");
        for (ObjectNode m : metrics) {
            int t = m.get("iteration").asInt();
            if (m.path("winrate_vs_prev").isNumber()) prev.add(t, m.get("winrate_vs_prev").asDouble());
            if (m.path("winrate_vs_start").isNumber()) start.add(t, m.get("winrate_vs_start").asDouble());
            if (m.path("exploitability").isNumber()) exploit.add(t, m.get("exploitability").asDouble());
            if (m.path("loss").isNumber()) loss.add(t, m.get("loss").asDouble());
        }
        XYSeriesCollection rates = new XYSeriesCollection();
        rates.addSeries(prev);
        rates.addSeries(start);
        if (exploit.getItemCount() > 0) rates.addSeries(exploit);
        NumberAxis x = new NumberAxis("iteration");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        NumberAxis y = new NumberAxis("win-rate / exploitability");
        y.setRange(0, 1);
        XYLineAndShapeRenderer r1 = new XYLineAndShapeRenderer(true, true);
        XYPlot plot = new XYPlot(rates, x, y, r1);
        NumberAxis y2 = new NumberAxis("DNO loss");
        y2.setAutoRangeIncludesZero(true);
        plot.setRangeAxis(1, y2);
        plot.setDataset(1, new XYSeriesCollection(loss));
        plot.mapDatasetToRangeAxis(1, 1);
        XYLineAndShapeRenderer r2 = new XYLineAndShapeRenderer(true, true);
        r2.setSeriesPaint(0, Color.DARK_GRAY);
        r2.setSeriesStroke(0, new BasicStroke(1.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[]{6f, 4f}, 0f));
        plot.setRenderer(1, r2);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart("DNO iterations", JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(bytes, chart, 800, 500);
            AtomicFiles.writeBytes(png, bytes.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(png + ": " + e.getMessage(), e);
        }
    }
}
