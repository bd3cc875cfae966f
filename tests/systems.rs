//! Hamiltonians against their definitions and finite differences, and the sampled initial
//! conditions against the system files.

mod common;

use common::{sampled, system};
use hamsim::physics::{Gravity, Hamiltonian, Springs};

/// V = ½ Σ_i Σ_j k_i k_j |q_i − q_j|², summed literally over ordered pairs.
fn springs_potential_by_definition(springs: &Springs, q: &[f64]) -> f64 {
    let (d, k) = (springs.dim, &springs.spring_constants);
    let mut v = 0.0;
    for i in 0..k.len() {
        for j in 0..k.len() {
            let r2: f64 = (0..d).map(|a| (q[i * d + a] - q[j * d + a]).powi(2)).sum();
            v += 0.5 * k[i] * k[j] * r2;
        }
    }
    v
}

/// Checks ∂H/∂z against central differences with step 1e-6: the truncation error is
/// O(1e-12 · H'''), and round-off adds about 1e-16 · |H| / 1e-6, so 1e-6 relative to the
/// gradient's scale is a safe bound for these smooth Hamiltonians.
fn assert_gradient_matches_differences(system: &dyn Hamiltonian, z: &[f64]) {
    let mut grad = vec![0.0; z.len()];
    system.gradient(z, &mut grad);
    let scale = grad.iter().fold(1.0_f64, |m, g| m.max(g.abs()));
    let step = 1e-6;
    for i in 0..z.len() {
        let (mut plus, mut minus) = (z.to_vec(), z.to_vec());
        plus[i] += step;
        minus[i] -= step;
        let numeric = (system.hamiltonian(&plus) - system.hamiltonian(&minus)) / (2.0 * step);
        assert!(
            (numeric - grad[i]).abs() < 1e-6 * scale,
            "component {i}: analytic {} numeric {numeric}",
            grad[i]
        );
    }
}

#[test]
fn springs_potential_matches_double_sum() {
    // The O(n) centroid form and the literal double sum differ only by round-off.
    for name in ["springs2d", "springs3d"] {
        let spec = system(name);
        for index in 0..20 {
            let sample = spec.sample(7, index);
            let springs = Springs::new(spec.dim(), sample.masses, sample.spring_constants.unwrap());
            let mut q = sample.z0[..sample.z0.len() / 2].to_vec();
            // Far from the origin the naive expanded form would lose digits; this one must not.
            q.iter_mut().for_each(|x| *x += 1e3);
            let fast = springs.potential(&q);
            let literal = springs_potential_by_definition(&springs, &q);
            assert!(((fast - literal) / literal).abs() < 1e-9, "{name} {index}: {fast} vs {literal}");
        }
    }
}

#[test]
fn springs_potential_in_four_dimensions() {
    // Dimensions above 3 take the general code path.
    let springs = Springs::new(4, vec![1.0, 2.0, 0.5], vec![1.5, 0.3, 2.0]);
    let q = [0.1, -0.4, 0.3, 0.9, 1.2, 0.0, -0.7, 0.2, -0.3, 0.5, 0.6, -1.1];
    let literal = springs_potential_by_definition(&springs, &q);
    assert!((springs.potential(&q) - literal).abs() < 1e-13 * literal);
    let mut z = q.to_vec();
    z.extend([0.2; 12]);
    assert_gradient_matches_differences(&springs, &z);
}

#[test]
fn gradients_match_finite_differences() {
    for name in ["springs2d", "springs3d", "gravity2d", "gravity3d"] {
        let spec = system(name);
        for index in 0..5 {
            let (h, z0) = sampled(&spec, index);
            assert_gradient_matches_differences(h.as_ref(), &z0);
        }
    }
    let softened = Gravity {
        dim: 2,
        masses: vec![1.0, 2.0, 3.0],
        gravitational_constant: 0.5,
        softening: 0.1,
    };
    assert_gradient_matches_differences(&softened, &[0.0, 0.1, 0.05, 0.0, 1.0, 1.0, 0.3, -0.2, 0.1, 0.0, 0.0, 0.4]);
}

#[test]
fn springs_samples_follow_the_file() {
    let spec = system("springs2d");
    for index in 0..50 {
        let sample = spec.sample(3, index);
        assert!(sample.masses.iter().all(|m| (0.1..3.1).contains(m)));
        let k = sample.spring_constants.unwrap();
        assert!(k.iter().all(|k| (0.0..5.0).contains(k)));
        assert_eq!(sample.z0.len(), 24);
    }
    assert_eq!(spec.sample(3, 9), spec.sample(3, 9), "a stream must replay exactly");
    assert_ne!(spec.sample(3, 9), spec.sample(3, 10));
    assert_ne!(spec.sample(3, 9), spec.sample(4, 9));
}

#[test]
fn gravity_samples_are_circular_orbits() {
    // Star of mass 32 at rest at the origin; every planet at a radius within the jitter of
    // its slot in linspace(0.5, 4, 5), moving perpendicular to its radius at √(G M / r).
    for name in ["gravity2d", "gravity3d"] {
        let spec = system(name);
        let d = spec.dim();
        let mut star_positions = std::collections::HashSet::new();
        for index in 0..40 {
            let sample = spec.sample(0, index);
            let (q, p) = sample.z0.split_at(sample.z0.len() / 2);
            let star = sample.masses.iter().position(|&m| m == 32.0).expect("a star");
            star_positions.insert(star);
            assert!(q[star * d..(star + 1) * d].iter().all(|&x| x == 0.0));
            assert!(p[star * d..(star + 1) * d].iter().all(|&x| x == 0.0));

            let mut radii = Vec::new();
            for i in (0..6).filter(|&i| i != star) {
                let (q_i, p_i) = (&q[i * d..(i + 1) * d], &p[i * d..(i + 1) * d]);
                let m = sample.masses[i];
                assert!((0.02..0.2).contains(&m), "planet mass {m}");
                let r = q_i.iter().map(|x| x * x).sum::<f64>().sqrt();
                let speed = p_i.iter().map(|x| x * x).sum::<f64>().sqrt() / m;
                let radial: f64 = q_i.iter().zip(p_i).map(|(a, b)| a * b).sum();
                assert!(((speed - (32.0 / r).sqrt()) / speed).abs() < 1e-12, "speed {speed} at r {r}");
                assert!(radial.abs() < 1e-12 * r * speed * m, "velocity not tangential");
                radii.push(r);
            }
            radii.sort_by(f64::total_cmp);
            for (slot, r) in radii.iter().enumerate() {
                let centre = 0.5 + 3.5 * slot as f64 / 4.0;
                assert!((r - centre).abs() <= 0.105 + 1e-12, "radius {r} for slot {centre}");
            }
        }
        assert!(star_positions.len() > 1, "{name}: the star is never shuffled");
    }
}

#[test]
fn gravity3d_uses_many_planes() {
    // Angular momenta of the planets point in random directions, not all along z.
    let spec = system("gravity3d");
    let sample = spec.sample(0, 0);
    let (q, p) = sample.z0.split_at(18);
    let normals: Vec<[f64; 3]> = (0..6)
        .filter(|&i| sample.masses[i] != 32.0)
        .map(|i| {
            let (a, b) = (&q[3 * i..3 * i + 3], &p[3 * i..3 * i + 3]);
            [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
        })
        .collect();
    let all_along_z = normals.iter().all(|l| l[0].abs() < 1e-9 && l[1].abs() < 1e-9);
    assert!(!all_along_z);
}
