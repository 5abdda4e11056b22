#!/usr/bin/env python3
"""Write a runbook full of references to unknown, long step and input names.

    gen_unknown_refs.py BYTES OUT

Each step is a shell step whose command refers to a step and an input that do not exist, with
names of 60 to 300 characters, and the step ids themselves are long: every reference is a finding
whose "did you mean" compares a long name with every step id. Before the suggestion work was
bounded, a 1 MB file took 44 s to lint and a 3.9 MB one 308 s.
"""
import random
import sys


def name(rng, length):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz_") for _ in range(length))


def main():
    size, out = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(1)
    parts = ["id: unknown-refs\ntitle: References to unknown long names\nsteps:\n"]
    total = len(parts[0])
    index = 0
    while total < size:
        step = (
            f"  - id: s{index}_{name(rng, rng.randint(20, 60))}\n"
            f"    shell:\n"
            f"      command: echo \"{{{{steps.{name(rng, rng.randint(60, 300))}.outputs.x}}}} "
            f"{{{{inputs.{name(rng, rng.randint(60, 300))}}}}}\"\n"
        )
        parts.append(step)
        total += len(step)
        index += 1
    with open(out, "w") as f:
        f.write("".join(parts))


if __name__ == "__main__":
    main()
