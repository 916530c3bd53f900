// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Settlement: what the oracles sign, in one place for the core and the quorum
/// @notice The EIP-712 types of a settlement (docs/RENDER_SPEC.md §16) and the ERC-7007 proof of
/// one token in it. StyleMint hashes the commitments it settles; OracleQuorum checks signatures and
/// ERC-7007 proofs, so the proof's decoding lives outside the size-limited core.
library Settlement {
    /// @notice EIP-712 type of one token's commitment.
    bytes32 internal constant FULFILMENT_TYPEHASH = keccak256(
        "Fulfilment(uint256 tokenId,bytes32 seed,bytes32 metadataDigest,string prompt,uint16[] weightsBps,"
        "bytes32 mintBlockHash,bytes32 randomnessBlockHash)"
    );
    /// @notice EIP-712 type the oracles sign: one or more tokens' commitments to one collection.
    bytes32 internal constant SETTLEMENT_TYPEHASH = keccak256(
        "Settlement(address collection,Fulfilment[] fulfilments)Fulfilment(uint256 tokenId,bytes32 seed,"
        "bytes32 metadataDigest,string prompt,uint16[] weightsBps,bytes32 mintBlockHash,bytes32 randomnessBlockHash)"
    );

    /// @notice ERC-7007 `proof` of one token: the rest of its commitment, every commitment of the
    /// settlement the oracles signed (their struct hashes, in order), the token's index in it, and
    /// the oracles' signatures over the settlement (signers in ascending address order).
    struct Proof {
        uint256 tokenId;
        bytes32 seed;
        uint16[] weightsBps;
        bytes32 mintBlockHash;
        bytes32 randomnessBlockHash;
        bytes32[] fulfilments;
        uint256 index;
        bytes[] signatures;
    }

    /// @notice EIP-712 struct hash of one token's commitment.
    function fulfilmentHash(
        uint256 tokenId,
        bytes32 seed,
        bytes32 metadataDigest,
        bytes32 promptHash,
        uint16[] memory weightsBps,
        bytes32 mintBlockHash,
        bytes32 randomnessBlockHash
    ) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                FULFILMENT_TYPEHASH,
                tokenId,
                seed,
                metadataDigest,
                promptHash,
                keccak256(abi.encodePacked(weightsBps)),
                mintBlockHash,
                randomnessBlockHash
            )
        );
    }

    /// @notice EIP-712 struct hash of a settlement of these commitments (struct hashes, in order).
    function settlementHash(address collection, bytes32[] memory fulfilments) internal pure returns (bytes32) {
        return keccak256(abi.encode(SETTLEMENT_TYPEHASH, collection, keccak256(abi.encodePacked(fulfilments))));
    }

    /// @notice Whether the proof's settlement holds, at its index, the commitment of its token to
    /// this prompt and metadata digest (`aigcData`, 32 bytes).
    function commits(Proof memory proof, bytes calldata prompt, bytes calldata aigcData) internal pure returns (bool) {
        if (aigcData.length != 32 || proof.index >= proof.fulfilments.length) return false;
        bytes32 item = fulfilmentHash(
            proof.tokenId,
            proof.seed,
            bytes32(aigcData),
            keccak256(prompt),
            proof.weightsBps,
            proof.mintBlockHash,
            proof.randomnessBlockHash
        );
        return proof.fulfilments[proof.index] == item;
    }
}
