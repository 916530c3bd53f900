"""The render oracle: Mint event -> render -> pin -> fulfill, exactly once per token, durably."""
