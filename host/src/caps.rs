//! A step's capabilities, built once when its store is made and handed to every host call it
//! makes: who it is, its turn in a simulated run, the services it was granted, who answers
//! its device-code prompt, and its budget. Nothing on the call path looks a step up by name.

use std::sync::Arc;

use crate::bindings::Service;
use crate::cloud::auth::Identity;
use crate::flow::Persona;
use crate::limits::Limits;

/// The services a step may call: a set of [`Service`], deny by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grants(u8);

impl Grants {
    pub const NONE: Grants = Grants(0);

    pub fn of(services: &[Service]) -> Self {
        Grants(services.iter().fold(0, |bits, s| bits | Self::bit(*s)))
    }

    fn bit(s: Service) -> u8 {
        1 << s as u8
    }

    pub fn allows(self, s: Service) -> bool {
        self.0 & Self::bit(s) != 0
    }

    /// The services in `wanted` that these grants do not cover, in `wanted`'s order.
    pub fn missing(self, wanted: &[Service]) -> Vec<Service> {
        let mut out: Vec<Service> = wanted.iter().copied().filter(|s| !self.allows(*s)).collect();
        out.dedup();
        out
    }
}

/// What one running step may do. Cheap to share: the sandbox keeps it in the store's data.
#[derive(Debug, Clone)]
pub struct StepCaps {
    step: Arc<str>,
    turn: usize,
    grants: Grants,
    persona: Option<Persona>,
    limits: Limits,
    /// Whom the step's Graph and ARM calls are made as, when not the operator.
    acting_as: Option<Identity>,
}

impl StepCaps {
    pub fn new(step: &str, turn: usize, grants: Grants, persona: Option<Persona>, limits: Limits) -> Self {
        StepCaps { step: step.into(), turn, grants, persona, limits, acting_as: None }
    }

    /// The same step, acting as `identity` instead of the operator.
    pub fn acting_as(self, identity: Identity) -> Self {
        StepCaps { acting_as: Some(identity), ..self }
    }

    /// A caller that is not a step (the operator's or a persona's sign-in, `describe`): no
    /// turn of its own, the given grants, default limits.
    pub fn host(name: &str, grants: Grants) -> Self {
        StepCaps::new(name, usize::MAX, grants, None, Limits::default())
    }

    /// The step's id in the flow, as transcripts and errors name it.
    pub fn step(&self) -> &str {
        &self.step
    }

    /// Its index in the flow: the turnstile's order.
    pub fn turn(&self) -> usize {
        self.turn
    }

    pub fn grants(&self) -> Grants {
        self.grants
    }

    /// The simulated person who answers this step's device-code prompt.
    pub fn persona(&self) -> Option<&Persona> {
        self.persona.as_ref()
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whom the step acts as, if not the operator.
    pub fn identity(&self) -> Option<&Identity> {
        self.acting_as.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_allow_exactly_what_was_granted() {
        let g = Grants::of(&[Service::Arm, Service::Kube]);
        assert!(g.allows(Service::Arm) && g.allows(Service::Kube));
        assert!(!g.allows(Service::Graph) && !g.allows(Service::Login));
        assert!(!Grants::NONE.allows(Service::Login));
        assert_eq!(Grants::default(), Grants::NONE);
    }

    #[test]
    fn a_service_granted_twice_is_still_granted() {
        let g = Grants::of(&[Service::Arm, Service::Kube, Service::Arm]);
        assert!(g.allows(Service::Arm) && g.allows(Service::Kube));
    }

    #[test]
    fn a_steps_capabilities_are_what_it_was_built_with() {
        let persona = Persona { user: "alice@contoso.onmicrosoft.com".into(), decline: false, password: None, after: None };
        let limits = Limits { calls: 7, ..Limits::default() };
        let caps = StepCaps::new("bind", 12, Grants::of(&[Service::Kube]), Some(persona.clone()), limits);
        assert_eq!(caps.step(), "bind");
        assert_eq!(caps.turn(), 12);
        assert_eq!(caps.grants(), Grants::of(&[Service::Kube]));
        assert_eq!(caps.persona(), Some(&persona));
        assert_eq!(caps.limits().calls, 7);
        let host = StepCaps::host("(persona)", Grants::of(&[Service::Login]));
        assert_eq!((host.step(), host.turn(), host.persona()), ("(persona)", usize::MAX, None));
        assert_eq!(*host.limits(), Limits::default());
    }

    #[test]
    fn missing_lists_the_services_not_granted_in_order() {
        let g = Grants::of(&[Service::Graph]);
        assert_eq!(g.missing(&[Service::Arm, Service::Graph, Service::Kube]), vec![Service::Arm, Service::Kube]);
        assert!(Grants::of(&[Service::Login, Service::Graph, Service::Arm, Service::Kube]).missing(&[Service::Kube]).is_empty());
    }
}
