package org.dnonative.model.template;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/** Python's datetime.strftime in the C locale, for the directives chat templates use. */
final class Strftime {
    private Strftime() {}

    static String format(String fmt, ZonedDateTime t) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 >= fmt.length()) { sb.append(c); continue; }
            char d = fmt.charAt(++i);
            boolean noPad = false;
            if (d == '-' && i + 1 < fmt.length()) { noPad = true; d = fmt.charAt(++i); }
            switch (d) {
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'b', 'h' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'd' -> sb.append(num(t.getDayOfMonth(), 2, noPad));
                case 'e' -> sb.append(String.format("%2d", t.getDayOfMonth()));
                case 'm' -> sb.append(num(t.getMonthValue(), 2, noPad));
                case 'y' -> sb.append(num(t.getYear() % 100, 2, noPad));
                case 'Y' -> sb.append(t.getYear());
                case 'H' -> sb.append(num(t.getHour(), 2, noPad));
                case 'I' -> sb.append(num(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12, 2, noPad));
                case 'M' -> sb.append(num(t.getMinute(), 2, noPad));
                case 'S' -> sb.append(num(t.getSecond(), 2, noPad));
                case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
                case 'j' -> sb.append(num(t.getDayOfYear(), 3, noPad));
                case 'F' -> sb.append(String.format("%04d-%02d-%02d", t.getYear(), t.getMonthValue(), t.getDayOfMonth()));
                case 'T' -> sb.append(String.format("%02d:%02d:%02d", t.getHour(), t.getMinute(), t.getSecond()));
                case '%' -> sb.append('%');
                default -> throw new EvalError("strftime_now: unsupported directive %" + (noPad ? "-" : "") + d);
            }
        }
        return sb.toString();
    }

    private static String num(int v, int width, boolean noPad) {
        return noPad ? Integer.toString(v) : String.format("%0" + width + "d", v);
    }
}
