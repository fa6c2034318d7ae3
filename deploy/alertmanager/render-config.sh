#!/bin/sh
# Render Alertmanager's configuration template: render-config.sh TEMPLATE OUTPUT.
# Each ${NAME} becomes the value of the environment variable NAME, so no receiver's secret is
# ever in the repository, an image or a ConfigMap. Refuses (exit 2, naming the variable, never
# its value) a variable that is unset or empty, or a value with a double quote, a backslash or
# a line break, which would end the YAML string it is put in. POSIX sh and awk: it runs in the
# Alertmanager image (busybox) before Alertmanager starts.
set -eu
template=$1
output=$2
umask 077
awk '
{
    line = $0
    rendered = ""
    while (match(line, /\$\{[A-Z0-9_]+\}/)) {
        name = substr(line, RSTART + 2, RLENGTH - 3)
        if (!(name in ENVIRON) || ENVIRON[name] == "") {
            print "render-config: " name " is not set" > "/dev/stderr"
            exit 2
        }
        value = ENVIRON[name]
        if (index(value, "\"") || index(value, "\\") || index(value, "\n")) {
            print "render-config: " name " holds a quote, a backslash or a line break" > "/dev/stderr"
            exit 2
        }
        rendered = rendered substr(line, 1, RSTART - 1) value
        line = substr(line, RSTART + RLENGTH)
    }
    print rendered line
}
' "$template" > "$output" || { rm -f "$output"; exit 2; }
