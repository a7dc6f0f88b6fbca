//! Three-phase four-wire unbalanced load flow of a radial LV network by
//! backward/forward sweep, with an explicit neutral conductor.
//!
//! Node 0 is the ideal source behind the transformer (phase voltages `E`,
//! neutral at 0 V); node 1 is the LV busbar, reached through the transformer's
//! per-phase impedance with a solidly earthed star point (neutral impedance 0).
//! Every other node hangs below its parent (`parent[k] < k`). Branch `k` is the
//! cable from `parent[k]` to `k`; its phase conductors have impedance `z_phase[k]`
//! each and its neutral `z_neutral[k]` (no mutual coupling). A node may have an
//! earth electrode (conductance `g_earth[k]`) from its neutral to remote earth,
//! which is the station earth (0 V). Loads are constant power per phase, between
//! phase and neutral. Flat arrays, no allocation per solve.

use super::c64::C64;

/// Conductor index of the neutral in the per-node arrays.
pub const N: usize = 3;

/// The radial network of one station as the load flow sees it.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    pub parent: Vec<u32>,
    pub z_phase: Vec<C64>,
    pub z_neutral: Vec<C64>,
    /// Earth-electrode conductance from the node's neutral to earth (S); 0 = none.
    pub g_earth: Vec<f64>,
}

impl Tree {
    /// A tree holding the source (node 0) and the busbar (node 1) behind a transformer.
    pub fn with_transformer(z_transformer: C64) -> Tree {
        Tree {
            parent: vec![0, 0],
            z_phase: vec![C64::ZERO, z_transformer],
            z_neutral: vec![C64::ZERO, C64::ZERO],
            g_earth: vec![0.0, 0.0],
        }
    }
    pub fn len(&self) -> usize {
        self.parent.len()
    }
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }
    /// Adds a node below `parent`; returns its index.
    pub fn add(&mut self, parent: usize, z_phase: C64, z_neutral: C64) -> usize {
        debug_assert!(parent < self.parent.len());
        self.parent.push(parent as u32);
        self.z_phase.push(z_phase);
        self.z_neutral.push(z_neutral);
        self.g_earth.push(0.0);
        self.parent.len() - 1
    }
    /// Resistance of the phase conductors and of the neutral from the source to `node`.
    pub fn path_resistance(&self, mut node: usize) -> (f64, f64) {
        let (mut rp, mut rn) = (0.0, 0.0);
        while node != 0 {
            rp += self.z_phase[node].re;
            rn += self.z_neutral[node].re;
            node = self.parent[node] as usize;
        }
        (rp, rn)
    }
}

/// The load flow did not converge (a load beyond what the cable can carry).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("load flow did not converge after {iterations} iterations (largest voltage change {max_change_v:.3e} V)")]
pub struct NonConvergence {
    pub iterations: usize,
    pub max_change_v: f64,
}

/// Reusable solver state for one tree.
pub struct Solver<'a> {
    tree: &'a Tree,
    /// Node voltages: phases a, b, c and neutral, against remote earth.
    pub v: Vec<[C64; 4]>,
    /// Branch currents (parent to node), phases and neutral.
    pub j: Vec<[C64; 4]>,
    /// Nodes with an earth electrode (index, conductance).
    earthed: Vec<(u32, f64)>,
    pub tolerance_v: f64,
    pub max_iterations: usize,
}

/// Three phase voltages `e` at 0°, -120°, +120°.
pub fn balanced_source(e: f64) -> [C64; 3] {
    let a = 2.0 * std::f64::consts::PI / 3.0;
    [C64::polar(e, 0.0), C64::polar(e, -a), C64::polar(e, a)]
}

impl<'a> Solver<'a> {
    pub fn new(tree: &'a Tree) -> Solver<'a> {
        let earthed = tree.g_earth.iter().enumerate().filter(|(_, g)| **g > 0.0).map(|(k, g)| (k as u32, *g)).collect();
        Solver {
            tree,
            v: vec![[C64::ZERO; 4]; tree.len()],
            j: vec![[C64::ZERO; 4]; tree.len()],
            earthed,
            tolerance_v: 1e-6,
            max_iterations: 60,
        }
    }

    /// Flat start: every node at the source voltages, neutral at 0 V.
    pub fn reset(&mut self, e: [C64; 3]) {
        for v in &mut self.v {
            *v = [e[0], e[1], e[2], C64::ZERO];
        }
    }

    /// Solves for the given source voltages and loads. `load_nodes[i]` carries the
    /// constant complex power `s[i]` (W + jvar) per grid phase. Starts from the
    /// previous solution (warm start). Returns the number of iterations used.
    pub fn solve(&mut self, e: [C64; 3], load_nodes: &[u32], s: &[[C64; 3]]) -> Result<usize, NonConvergence> {
        debug_assert_eq!(load_nodes.len(), s.len());
        let t = self.tree;
        let n = t.len();
        if self.v[0][0] == C64::ZERO {
            self.reset(e);
        }
        self.v[0] = [e[0], e[1], e[2], C64::ZERO];
        let mut max_change = f64::INFINITY;
        for it in 1..=self.max_iterations {
            for j in &mut self.j {
                *j = [C64::ZERO; 4];
            }
            // Load currents out of the phases, back through the neutral.
            for (&node, sp) in load_nodes.iter().zip(s) {
                let k = node as usize;
                let vn = self.v[k][N];
                for p in 0..3 {
                    if sp[p] != C64::ZERO {
                        let i = (sp[p] / (self.v[k][p] - vn)).conj();
                        self.j[k][p] += i;
                        self.j[k][N] -= i;
                    }
                }
            }
            // Earth electrodes drain part of the neutral return into the soil.
            for &(node, g) in &self.earthed {
                let k = node as usize;
                let ig = self.v[k][N].scale(g);
                self.j[k][N] += ig;
            }
            // Backward sweep: accumulate branch currents towards the source.
            for k in (2..n).rev() {
                let p = t.parent[k] as usize;
                let jk = self.j[k];
                for c in 0..4 {
                    self.j[p][c] += jk[c];
                }
            }
            // Forward sweep: voltage drops from the source outwards.
            max_change = 0.0;
            for k in 1..n {
                let p = t.parent[k] as usize;
                let vp = self.v[p];
                let (zp, zn) = (t.z_phase[k], t.z_neutral[k]);
                let jk = self.j[k];
                let new = [vp[0] - zp * jk[0], vp[1] - zp * jk[1], vp[2] - zp * jk[2], vp[3] - zn * jk[3]];
                for c in 0..4 {
                    let d = (new[c] - self.v[k][c]).norm_sqr();
                    if d > max_change {
                        max_change = d;
                    }
                }
                self.v[k] = new;
            }
            max_change = max_change.sqrt();
            if max_change < self.tolerance_v {
                return Ok(it);
            }
            if !max_change.is_finite() {
                break;
            }
        }
        // Leave a clean state for the next solve.
        self.reset(e);
        Err(NonConvergence { iterations: self.max_iterations, max_change_v: max_change })
    }

    /// Phase-to-neutral voltage at a node.
    #[inline]
    pub fn phase_to_neutral(&self, node: usize, phase: usize) -> C64 {
        self.v[node][phase] - self.v[node][N]
    }

    /// Complex power delivered by the source (into the transformer).
    pub fn source_power(&self) -> C64 {
        (0..3).map(|p| self.v[0][p] * self.j[1][p].conj()).fold(C64::ZERO, |a, b| a + b)
    }

    /// Active power lost in the transformer, the cables and the earth electrodes (W).
    pub fn losses_w(&self) -> f64 {
        let t = self.tree;
        let mut loss = 0.0;
        for k in 1..t.len() {
            let j = self.j[k];
            loss += (j[0].norm_sqr() + j[1].norm_sqr() + j[2].norm_sqr()) * t.z_phase[k].re + j[3].norm_sqr() * t.z_neutral[k].re;
        }
        for &(node, g) in &self.earthed {
            loss += self.v[node as usize][N].norm_sqr() * g;
        }
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 4x150Al: 0.206 ohm/km phase and neutral, X 0.072 ohm/km.
    fn cable(len_m: f64) -> C64 {
        C64::new(0.206, 0.072).scale(len_m / 1000.0)
    }

    #[test]
    fn single_phase_load_on_one_cable_matches_hand_calculation() {
        // Ideal source (no transformer impedance), 200 m of resistive cable, one
        // 5 kW single-phase load at the end: the current returns through the
        // neutral, so the loop resistance is 2 x R. With V the phase-to-neutral
        // voltage at the load: V^2 - E V + P (2R) = 0.
        let r = 0.206 * 0.2;
        let mut t = Tree::with_transformer(C64::ZERO);
        let end = t.add(1, C64::new(r, 0.0), C64::new(r, 0.0));
        let e = balanced_source(230.0);
        let mut s = Solver::new(&t);
        s.solve(e, &[end as u32], &[[C64::new(5000.0, 0.0), C64::ZERO, C64::ZERO]]).unwrap();
        let hand = (230.0 + (230.0f64 * 230.0 - 4.0 * 5000.0 * 2.0 * r).sqrt()) / 2.0;
        let got = s.phase_to_neutral(end, 0).abs();
        assert!((got - hand).abs() < 1e-6, "load flow {got} V, hand calculation {hand} V");
        // The neutral rises by the same drop as the phase falls: half the drop each.
        let vn = s.v[end][N].abs();
        assert!((vn - (230.0 - hand) / 2.0).abs() < 1e-6, "neutral shift {vn}");
        // The unloaded phases carry no current: they see the source minus the neutral shift.
        let vb = s.phase_to_neutral(end, 1).abs();
        assert!((vb - (e[1] - s.v[end][N]).abs()).abs() < 1e-9);
        assert!(vb > 230.3, "neutral shift raises phase b to {vb} V");
    }

    #[test]
    fn balanced_three_phase_load_has_no_neutral_current() {
        let mut t = Tree::with_transformer(C64::new(0.004, 0.0154));
        let a = t.add(1, cable(150.0), cable(150.0));
        let b = t.add(a, cable(80.0), cable(80.0));
        let e = balanced_source(236.0);
        let mut s = Solver::new(&t);
        let sp = C64::new(3000.0, 600.0);
        s.solve(e, &[b as u32], &[[sp; 3]]).unwrap();
        assert!(s.j[b][N].abs() < 1e-9);
        // Per-phase hand calculation with the total series impedance (transformer + cables).
        let z = C64::new(0.004, 0.0154) + cable(230.0);
        let mut v = C64::new(236.0, 0.0);
        for _ in 0..100 {
            v = C64::new(236.0, 0.0) - z * (sp / v).conj();
        }
        assert!((s.phase_to_neutral(b, 0).abs() - v.abs()).abs() < 1e-6);
    }

    #[test]
    fn power_balance_with_unbalanced_loads_pv_and_earth_electrodes() {
        let mut t = Tree::with_transformer(C64::new(0.0046, 0.0153));
        let mut loads = Vec::new();
        let mut prev = 1;
        for k in 0..20 {
            let node = t.add(prev, cable(35.0), cable(35.0));
            let meter = t.add(node, C64::new(1.83 * 0.015, 0.0013), C64::new(1.83 * 0.015, 0.0013));
            loads.push(meter as u32);
            prev = node;
            if k % 7 == 6 {
                t.g_earth[node] = 1.0 / 15.0;
            }
        }
        let s_loads: Vec<[C64; 3]> = (0..20)
            .map(|k| {
                let mut s = [C64::ZERO; 3];
                s[k % 3] = if k % 5 == 0 { C64::new(-3500.0, 0.0) } else { C64::new(1200.0 + 100.0 * k as f64, 250.0) };
                s
            })
            .collect();
        let e = balanced_source(237.0);
        let mut s = Solver::new(&t);
        s.solve(e, &loads, &s_loads).unwrap();
        let p_load: f64 = s_loads.iter().flat_map(|x| x.iter()).map(|x| x.re).sum();
        let q_load: f64 = s_loads.iter().flat_map(|x| x.iter()).map(|x| x.im).sum();
        let src = s.source_power();
        let loss = s.losses_w();
        assert!((src.re - p_load - loss).abs() < 1e-3, "source {} W, loads {p_load} W, losses {loss} W", src.re);
        assert!(src.im > q_load, "reactive losses are positive");
        assert!(s.earthed.len() == 2 && s.v[loads[19] as usize][N].abs() > 0.01);
    }

    #[test]
    fn impossible_load_is_reported_not_solved() {
        let mut t = Tree::with_transformer(C64::ZERO);
        let end = t.add(1, C64::new(1.0, 0.0), C64::new(1.0, 0.0));
        let mut s = Solver::new(&t);
        // 230^2 / (4 * 2 ohm) = 6.6 kW is the most a 2-ohm loop can deliver.
        let r = s.solve(balanced_source(230.0), &[end as u32], &[[C64::new(20_000.0, 0.0), C64::ZERO, C64::ZERO]]);
        assert!(r.is_err());
    }
}
