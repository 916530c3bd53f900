"""The auditor's verifier: from a token id alone, prove or refute that its image is its seed's render."""
