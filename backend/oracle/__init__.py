"""The render oracle: Mint event -> render -> pin -> fulfil, exactly once per token, durably."""
