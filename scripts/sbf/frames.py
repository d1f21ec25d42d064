"""Largest SBF stack frames per function, from llc's BPF assembly.

Usage: frames.py <program.s> [N]. A function's frame is the deepest `r10 - N` it addresses
(directly, or as `rX = r10; rX += -N`). Offsets above 3840 belong to the stack-argument
area of scripts/sbf's linker patch and are reported separately.
"""
import re
import sys


def readable(symbol):
    """The identifier path inside a Rust v0 mangled symbol (no generics, no hashes)."""
    if not symbol.startswith("_R"):
        return symbol
    # Disambiguators (`s<base-62>_` after a crate root, impl or namespace tag) are hashes.
    symbol = re.sub(r"(?<=[CX])s[0-9A-Za-z]*_|(?<=N[a-zA-Z])s[0-9A-Za-z]*_", "", symbol)
    parts, i = [], 0
    while i < len(symbol):
        m = re.match(r"(\d+)_?", symbol[i:])
        if not m or (i > 0 and symbol[i - 1].isdigit()):
            i += 1
            continue
        n = int(m.group(1))
        start = i + len(m.group(0))
        word = symbol[start:start + n]
        if n and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", word):
            parts.append(word)
            i = start + n
        else:
            i += 1
    return "::".join(p for p in parts if not p.startswith("_")) or symbol


def frames(path):
    current, deepest, alias = None, {}, None
    for line in open(path):
        label = re.match(r"^([A-Za-z_.$][\w.$]*):\s*(#.*)?$", line)
        if label and not label.group(1).startswith(".L"):
            current = label.group(1)
            deepest.setdefault(current, 0)
            alias = None
            continue
        if current is None:
            continue
        for offset in re.findall(r"r10 - (\d+)\)", line):
            deepest[current] = max(deepest[current], int(offset))
        copy = re.match(r"\s*(r\d+) = r10\s*$", line)
        if copy:
            alias = copy.group(1)
            continue
        if alias:
            add = re.match(r"\s*" + alias + r" \+= -(\d+)\s*$", line)
            if add:
                deepest[current] = max(deepest[current], int(add.group(1)))
            alias = None
    return deepest


def main():
    deepest = frames(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    print("| frame (bytes) | function |")
    print("|---:|---|")
    for symbol, size in sorted(deepest.items(), key=lambda kv: -kv[1])[:n]:
        print(f"| {size} | `{readable(symbol)}` |")
    biggest = max(deepest.values())
    print(f"functions: {len(deepest)}, over 3840: {sum(v > 3840 for v in deepest.values())}, "
          f"over 4096: {sum(v > 4096 for v in deepest.values())}, largest_frame_bytes: {biggest}")


if __name__ == "__main__":
    main()
