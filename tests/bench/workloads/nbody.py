"""Float-heavy n-body integration (five bodies, symplectic Euler steps) plus
small-tuple churn; the fallback for ../shared/workloads/numeric.py
when that directory is absent.

usage: python nbody.py [STEPS]   (default 120000: about 1 s on a 2.8 GHz Xeon)
"""
import sys

PI = 3.141592653589793
MASS = 4 * PI * PI


def system():
    # [x, y, z, vx, vy, vz, mass]: a sun and four planets on rough orbits
    bodies = [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, MASS]]
    for k, (r, m) in enumerate([(5.2, 9.5e-4), (9.5, 2.9e-4), (19.2, 4.4e-5), (30.1, 5.2e-5)]):
        v = (MASS / r) ** 0.5
        bodies.append([r, 0.1 * k, -0.05 * k, 0.0, v, 0.01 * k, m * MASS])
    return bodies


def energy(bodies):
    e = 0.0
    for i, (x, y, z, vx, vy, vz, m) in enumerate(bodies):
        e += 0.5 * m * (vx * vx + vy * vy + vz * vz)
        for (x2, y2, z2, _, _, _, m2) in bodies[i + 1:]:
            e -= m * m2 / ((x - x2) ** 2 + (y - y2) ** 2 + (z - z2) ** 2) ** 0.5
    return e


def step(bodies, pairs, dt):
    for b1, b2 in pairs:
        dx = b1[0] - b2[0]
        dy = b1[1] - b2[1]
        dz = b1[2] - b2[2]
        d2 = dx * dx + dy * dy + dz * dz
        mag = dt / (d2 * d2 ** 0.5)
        m1 = b1[6] * mag
        m2 = b2[6] * mag
        b1[3] -= dx * m2
        b1[4] -= dy * m2
        b1[5] -= dz * m2
        b2[3] += dx * m1
        b2[4] += dy * m1
        b2[5] += dz * m1
    for b in bodies:
        b[0] += dt * b[3]
        b[1] += dt * b[4]
        b[2] += dt * b[5]


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 120000
    bodies = system()
    pairs = [(bodies[i], bodies[j]) for i in range(len(bodies)) for j in range(i + 1, len(bodies))]
    e0 = energy(bodies)
    for _ in range(steps):
        step(bodies, pairs, 0.001)
    churn = sum(a - b for a, b in [(i, i // 2) for i in range(40000)])
    print(f"{e0:.9f} {energy(bodies):.9f} {churn}")


main()
