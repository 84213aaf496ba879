"""Local, offline AI: sentence embeddings, ticket triage classifier, criticality, offline evaluation."""
