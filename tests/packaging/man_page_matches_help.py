#!/usr/bin/env python3
"""The man page against the program's own help: for every command (start,
filter compile and apply, each client verb the client's --help lists, and the
top level) the options the help names must be exactly the options the man
page's section for it names, and every command must have a section.

Help side: the usage lines (those naming capture-appliance) and the
options each option line begins with. Man side (doc/capture-appliance.8): in each .SS
section, its synopsis (up to the first .PP) and the tag line after each .TP.
An option is --long, -x, or a FIELD= of the client's usage lines.
Prints what one side names and the other lacks, per command."""
import re
import subprocess
import sys

BIN, MAN = sys.argv[1], sys.argv[2]
OPT = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])|(?<![\w-])([a-z]+)=")


def opts(text):
    found = set()
    for m in OPT.finditer(text):
        found.add(m.group(1) or m.group(2) + "=")
    return found


def help_text(*args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        sys.exit(f"FAIL: capture-appliance {' '.join(args)}: exit {p.returncode}: {p.stderr}")
    return p.stdout


LEAD = re.compile(r"^\s*((?:--?[a-zA-Z][a-z0-9-]*)(?:,\s*--?[a-zA-Z][a-z0-9-]*)*)")


def help_opts(text):
    found = set()
    for l in text.splitlines():
        if "capture-appliance" in l:
            found |= opts(l)
        elif LEAD.match(l):  # an option's line: the options it begins with
            found |= opts(LEAD.match(l).group(1))
    return found


def unroff(line):
    line = re.sub(r"\\f[BIRP]", "", line).replace("\\-", "-").replace("\\(em", "")
    line = re.sub(r'^\.(B|I|BI|IB|BR|RB|IR|RI)\s+', "", line)
    return line.replace('"', " ")


def man_sections(path):
    """{section title: set of options} over the .SS sections."""
    secs, cur, in_syn, after_tp = {}, None, False, False
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith(".SH"):
                cur = None
                continue
            if line.startswith(".SS"):
                cur = line[3:].strip().strip('"')
                secs[cur] = set()
                in_syn, after_tp = True, False
                continue
            if cur is None:
                continue
            if line.startswith(".PP"):
                in_syn = False
                continue
            if line.startswith(".TP"):
                after_tp = True
                in_syn = False
                continue
            if in_syn or after_tp:
                secs[cur] |= opts(unroff(line))
            after_tp = False
    return secs


man = man_sections(MAN)
with open(MAN) as f:
    whole = opts(unroff(f.read().replace("\\-", "-")))
errors = []


def compare(what, h, m):
    for o in sorted(h - m):
        errors.append(f"{what}: '{o}' is in --help but not in the man page")
    for o in sorted(m - h):
        errors.append(f"{what}: '{o}' is in the man page but not in --help")


# the client's verbs, as the client itself lists them
verbs = re.findall(r"^Usage: capture-appliance (?:\[--[^]]*\] )*(\w+)",
                   help_text("--server", "http://127.0.0.1:1", "--help"), re.M)
if len(verbs) < 6:
    sys.exit(f"FAIL: the client's --help lists only {verbs}")
commands = ["start", "filter compile", "filter apply", "fleet"] + verbs
for c in commands:
    if c not in man:
        errors.append(f"{c}: no .SS section in the man page")
for c in set(man) - set(commands):
    errors.append(f".SS {c}: not a command of the program")

compare("start", help_opts(help_text("start", "--help")), man.get("start", set()))
# filter compile and apply share one help text
compare("filter", help_opts(help_text("filter", "--help")),
        man.get("filter compile", set()) | man.get("filter apply", set()))
for v in verbs:
    compare(v, help_opts(help_text(v, "--help")), man.get(v, set()))
compare("fleet", help_opts(help_text("fleet", "--help")), man.get("fleet", set()))
# the top level names nothing the man page lacks (--help, --version)
for o in sorted(help_opts(help_text("--help")) - whole):
    errors.append(f"top level: '{o}' is in --help but nowhere in the man page")

if errors:
    print("\n".join("FAIL: " + e for e in errors))
    sys.exit(1)
print(f"PASS: {len(commands)} commands; start {len(man['start'])} options, "
      f"filter {len(man['filter compile'] | man['filter apply'])}, "
      f"client verbs {sum(len(man[v]) for v in verbs)} in all, agree with --help")
