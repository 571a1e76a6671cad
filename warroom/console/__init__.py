"""The Textual face of warroom: app.py composes the screen and routes keys and Messages to one
plain class per feature (incident, health, pods, evidence, updates, drill). Features get their
collaborators in their constructor, own their workers, and never import the app."""
