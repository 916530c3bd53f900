// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Settlement} from "./Settlement.sol";

/// @title OracleQuorum: who may attest to a render, and how many must agree
/// @notice A token settles only when `threshold` distinct oracle keys have signed the same
/// EIP-712 settlement (docs/RENDER_SPEC.md §16). A render is a pure function of the seed and the
/// committed manifest, so honest oracles sign byte-identical commitments: agreement is exact, and
/// one lying or broken key can neither settle a false render nor stop a true one (with M of N,
/// N - M may be down).
/// @dev Changes that would let one admin key decide settlements wait the admin hand-over's delay
/// (`defaultAdminDelay`): a newly granted oracle counts only from `oracleActiveFrom`, and a new
/// threshold applies only from its scheduled time, so collectors and style owners see a change
/// coming for as long as the admin hand-over takes. Revoking an oracle acts at once (it can only
/// stop settlements; the collector's refund after R blocks remains).
contract OracleQuorum is AccessControlDefaultAdminRules, EIP712 {
    /// @notice Keys whose signatures count towards a quorum (once active).
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");

    /// @notice When each oracle's signature starts to count (0: not an oracle).
    mapping(address oracle => uint48 activeFrom) public oracleActiveFrom;

    uint256 private _threshold;
    uint256 private _pendingThreshold;
    uint48 private _pendingThresholdFrom;

    /// @notice A threshold change was scheduled; it applies from `effectiveFrom`.
    event ThresholdScheduled(uint256 threshold, uint48 effectiveFrom);

    /// @notice A signature does not recover to an active oracle.
    error NotAnOracle(address signer);
    /// @notice Signers must be given in strictly ascending address order: one key counts once.
    error SignersNotAscending(address previous, address signer);
    /// @notice Fewer signatures than the threshold.
    error TooFewSignatures(uint256 given, uint256 required);
    /// @notice A threshold must be at least 1.
    error InvalidThreshold(uint256 threshold);
    /// @notice A signature that is not a valid 65-byte ECDSA signature.
    error BadSignature(uint256 index);
    /// @notice The zero address cannot be an oracle.
    error ZeroAddress();
    /// @notice An ERC-7007 proof that does not commit to this token, prompt and output.
    error InvalidProof(uint256 tokenId);

    /// @param admin the platform admin (the same key and delay as the StyleMint it serves)
    /// @param adminDelay seconds of the admin hand-over, and of every change to who settles
    /// @param oracles the first oracle keys, active at once
    /// @param threshold M: distinct oracle signatures a settlement needs
    constructor(address admin, uint48 adminDelay, address[] memory oracles, uint256 threshold)
        AccessControlDefaultAdminRules(adminDelay, admin)
        EIP712("StyleMint oracles", "1")
    {
        if (threshold == 0 || threshold > oracles.length) revert InvalidThreshold(threshold);
        _threshold = threshold;
        for (uint256 i = 0; i < oracles.length; ++i) {
            if (oracles[i] == address(0)) revert ZeroAddress();
            _grantRole(ORACLE_ROLE, oracles[i]);
            oracleActiveFrom[oracles[i]] = uint48(block.timestamp);
        }
    }

    /// @notice M: the distinct oracle signatures a settlement needs now.
    function threshold() public view returns (uint256) {
        uint48 from = _pendingThresholdFrom;
        return from != 0 && block.timestamp >= from ? _pendingThreshold : _threshold;
    }

    /// @notice Schedule a new threshold; it applies after `defaultAdminDelay()` seconds (a later
    /// call replaces a schedule not yet in force).
    function scheduleThreshold(uint256 newThreshold) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newThreshold == 0) revert InvalidThreshold(newThreshold);
        _threshold = threshold();
        uint48 from = uint48(block.timestamp) + defaultAdminDelay();
        (_pendingThreshold, _pendingThresholdFrom) = (newThreshold, from);
        emit ThresholdScheduled(newThreshold, from);
    }

    /// @notice Whether `account`'s signature counts now.
    function isOracle(address account) public view returns (bool) {
        uint48 from = oracleActiveFrom[account];
        return from != 0 && block.timestamp >= from;
    }

    /// @notice The EIP-712 digest of a struct hash under this contract's domain.
    function digest(bytes32 structHash) public view returns (bytes32) {
        return _hashTypedDataV4(structHash);
    }

    /// @notice Reverts unless `signatures` hold at least `threshold()` signatures of distinct
    /// active oracles over `structHash`, signers in ascending address order (the order makes "one
    /// key counts once" a comparison instead of a set). Who signed is public: anyone recovers the
    /// signers from the settlement's calldata (the verifier names them).
    function requireQuorum(bytes32 structHash, bytes[] calldata signatures) external view {
        _requireQuorum(structHash, signatures);
    }

    function _requireQuorum(bytes32 structHash, bytes[] memory signatures) private view {
        uint256 required = threshold();
        if (signatures.length < required) revert TooFewSignatures(signatures.length, required);
        bytes32 hash = _hashTypedDataV4(structHash);
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; ++i) {
            (address signer, ECDSA.RecoverError failure,) = ECDSA.tryRecover(hash, signatures[i]);
            if (failure != ECDSA.RecoverError.NoError) revert BadSignature(i);
            if (!isOracle(signer)) revert NotAnOracle(signer); // also any signature over another message
            if (signer <= previous) revert SignersNotAscending(previous, signer);
            previous = signer;
        }
    }

    /// @notice ERC-7007 `verify` for the calling collection (which forwards it here): whether the
    /// proof commits to this prompt and output and holds a quorum's signatures over a settlement
    /// of the caller's tokens.
    function verifyProof(bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        external
        view
        returns (bool)
    {
        Settlement.Proof memory decoded = abi.decode(proof, (Settlement.Proof));
        if (!Settlement.commits(decoded, prompt, aigcData)) return false;
        try this.requireQuorum(Settlement.settlementHash(msg.sender, decoded.fulfilments), decoded.signatures) {
            return true;
        } catch {
            return false;
        }
    }

    /// @notice ERC-7007 `addAigcData` for the calling collection: reverts unless the proof commits
    /// to this token, prompt and output and holds a quorum's signatures over a settlement of the
    /// caller's tokens; returns what settling it needs.
    function requireProof(
        uint256 tokenId,
        bytes calldata prompt,
        bytes calldata aigcData,
        bytes calldata proof
    ) external view returns (bytes32 seed, bytes32 randomnessBlockHash, uint16[] memory weightsBps) {
        Settlement.Proof memory decoded = abi.decode(proof, (Settlement.Proof));
        if (decoded.tokenId != tokenId || !Settlement.commits(decoded, prompt, aigcData)) revert InvalidProof(tokenId);
        _requireQuorum(Settlement.settlementHash(msg.sender, decoded.fulfilments), decoded.signatures);
        return (decoded.seed, decoded.randomnessBlockHash, decoded.weightsBps);
    }

    /// @dev A granted oracle counts only after the admin delay (none at construction).
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted && role == ORACLE_ROLE) {
            oracleActiveFrom[account] = uint48(block.timestamp) + defaultAdminDelay();
        }
    }

    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == ORACLE_ROLE) delete oracleActiveFrom[account];
    }
}
