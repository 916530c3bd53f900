// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {StyleMint} from "../StyleMint.sol";
import {IStyleMinter} from "./IStyleMinter.sol";

/// @title MinterSetPrice: a fixed price, optionally behind a Merkle allowlist and a per-address limit
/// @notice The artist sets a project's price (at least the core's `minimumPrice`); a buyer pays it
/// exactly and the whole price goes into the token's escrow in the core. With a Merkle root set,
/// only the addresses on the artist's list buy (`purchaseWithProof`), by default once each.
/// @dev The allowlist is an OpenZeppelin standard Merkle tree of `["address"]` leaves (the app
/// builds it with OpenZeppelin's merkle-tree package): leaf = keccak256(keccak256(abi.encode(account))).
/// Counts are written before the core is called (checks-effects-interactions); the core's
/// reentrancy guard stops a recipient's hook from buying again within the same purchase.
contract MinterSetPrice is IStyleMinter {
    /// @notice `maxPerAddress` meaning "no limit".
    uint32 public constant UNLIMITED = type(uint32).max;

    /// @notice The core this minter sells for.
    StyleMint public immutable CORE;

    /// @dev One slot, read once per purchase.
    struct Sale {
        uint128 price;
        uint32 maxPerAddress; // 0: the default (1 on an allowlist, none otherwise); UNLIMITED: none
        bool configured;
        bool allowlistOnly;
    }

    mapping(uint256 projectId => Sale) private _sales;
    /// @notice Root of each project's allowlist (zero: a public sale).
    mapping(uint256 projectId => bytes32) public merkleRoot;
    /// @notice Editions each address bought of each project, counted while a limit applies.
    mapping(uint256 projectId => mapping(address account => uint256)) public purchases;

    /// @notice The artist set a project's price.
    event PriceSet(uint256 indexed projectId, uint256 price);
    /// @notice The artist set a project's limit per address (0: the default, `UNLIMITED`: none).
    event MaxPerAddressSet(uint256 indexed projectId, uint256 maxPerAddress);
    /// @notice The artist set a project's allowlist (zero root: the sale is public again); the
    /// list itself is pinned at `listCID`, so anyone can check their place on it.
    event MerkleRootSet(uint256 indexed projectId, bytes32 root, string listCID);

    /// @notice Only the project's artist configures its sale.
    error NotProjectArtist(uint256 projectId, address caller);
    /// @notice The artist has not set a price for the project on this minter.
    error PriceNotConfigured(uint256 projectId);
    /// @notice `msg.value` must equal the price exactly.
    error WrongPayment(uint256 expected, uint256 sent);
    /// @notice A price below the core's minimum, or too large to hold.
    error InvalidPrice(uint256 price, uint256 minimumPrice);
    /// @notice The project sells only to its allowlist: use `purchaseWithProof`.
    error AllowlistOnly(uint256 projectId);
    /// @notice The project has no allowlist: use `purchase`.
    error NoAllowlist(uint256 projectId);
    /// @notice The proof does not put the caller on the project's allowlist.
    error NotOnAllowlist(uint256 projectId, address account);
    /// @notice The caller bought as many editions as the project allows one address.
    error MintLimitReached(uint256 projectId, address account, uint256 limit);
    /// @notice A zero address where one is needed.
    error ZeroAddress();

    modifier onlyArtist(uint256 projectId) {
        address artist = CORE.projectInfo(projectId).artist;
        if (artist != msg.sender) revert NotProjectArtist(projectId, msg.sender);
        _;
    }

    /// @param core the StyleMint core (whose admin approves this minter)
    constructor(StyleMint core) {
        if (address(core) == address(0)) revert ZeroAddress();
        CORE = core;
    }

    /// @inheritdoc IStyleMinter
    function minterType() external pure returns (string memory) {
        return "MinterSetPrice";
    }

    // ---------------------------------------------------------------- artists

    /// @notice Set the price of the project's next editions.
    /// @param projectId the project
    /// @param price exact price in wei, at least the core's `minimumPrice`
    function setPrice(uint256 projectId, uint256 price) external onlyArtist(projectId) {
        uint256 minimum = CORE.minimumPrice();
        if (price < minimum || price > type(uint128).max) revert InvalidPrice(price, minimum);
        Sale storage sale = _sales[projectId];
        sale.price = uint128(price);
        sale.configured = true;
        emit PriceSet(projectId, price);
    }

    /// @notice Limit how many editions one address buys (0: the default, 1 on an allowlist and
    /// none on a public sale; `UNLIMITED`: none).
    /// @param projectId the project
    /// @param maxPerAddress the limit
    function setMaxPerAddress(uint256 projectId, uint32 maxPerAddress) external onlyArtist(projectId) {
        _sales[projectId].maxPerAddress = maxPerAddress;
        emit MaxPerAddressSet(projectId, maxPerAddress);
    }

    /// @notice Sell only to an allowlist (the root of its standard Merkle tree), or publicly again (zero).
    /// @param projectId the project
    /// @param root the tree's root, or zero
    /// @param listCID where the list is pinned (shown to collectors; empty with a zero root)
    function setMerkleRoot(uint256 projectId, bytes32 root, string calldata listCID) external onlyArtist(projectId) {
        merkleRoot[projectId] = root;
        _sales[projectId].allowlistOnly = root != bytes32(0);
        emit MerkleRootSet(projectId, root, listCID);
    }

    // ---------------------------------------------------------------- collectors

    /// @inheritdoc IStyleMinter
    function purchase(uint256 projectId, bytes32 expectedManifestHash) external payable returns (uint256 tokenId) {
        return _purchase(msg.sender, projectId, expectedManifestHash, false);
    }

    /// @inheritdoc IStyleMinter
    function purchaseTo(address to, uint256 projectId, bytes32 expectedManifestHash)
        external
        payable
        returns (uint256 tokenId)
    {
        return _purchase(to, projectId, expectedManifestHash, false);
    }

    /// @notice Buy the next edition of an allowlisted project for the caller, proving the caller is on the list.
    /// @param projectId the project
    /// @param expectedManifestHash the manifest hash the buyer was shown
    /// @param proof the caller's Merkle proof (the app serves it)
    /// @return tokenId the new token
    function purchaseWithProof(uint256 projectId, bytes32 expectedManifestHash, bytes32[] calldata proof)
        external
        payable
        returns (uint256 tokenId)
    {
        bytes32 root = merkleRoot[projectId];
        if (root == bytes32(0)) revert NoAllowlist(projectId);
        if (!MerkleProof.verifyCalldata(proof, root, allowlistLeaf(msg.sender))) {
            revert NotOnAllowlist(projectId, msg.sender);
        }
        return _purchase(msg.sender, projectId, expectedManifestHash, true);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IStyleMinter
    function priceInfo(uint256 projectId) external view returns (bool configured, uint256 price) {
        Sale storage sale = _sales[projectId];
        return (sale.configured, sale.price);
    }

    /// @notice A project's sale settings.
    /// @return price the price in wei
    /// @return maxPerAddress the limit that applies (0: none)
    /// @return allowlistOnly whether only the allowlist buys
    function saleInfo(uint256 projectId)
        external
        view
        returns (uint256 price, uint256 maxPerAddress, bool allowlistOnly)
    {
        Sale memory sale = _sales[projectId];
        return (sale.price, _limit(sale), sale.allowlistOnly);
    }

    /// @notice How many more editions `account` may buy (`type(uint256).max`: no limit).
    function mintsLeft(uint256 projectId, address account) external view returns (uint256) {
        uint256 limit = _limit(_sales[projectId]);
        if (limit == 0) return type(uint256).max;
        uint256 bought = purchases[projectId][account];
        return bought >= limit ? 0 : limit - bought;
    }

    /// @notice The allowlist leaf of an account (OpenZeppelin standard tree, `["address"]`).
    function allowlistLeaf(address account) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account))));
    }

    // ---------------------------------------------------------------- internals

    function _limit(Sale memory sale) private pure returns (uint256) {
        if (sale.maxPerAddress == UNLIMITED) return 0;
        if (sale.maxPerAddress == 0) return sale.allowlistOnly ? 1 : 0;
        return sale.maxPerAddress;
    }

    function _purchase(address to, uint256 projectId, bytes32 expectedManifestHash, bool proven)
        private
        returns (uint256 tokenId)
    {
        if (to == address(0)) revert ZeroAddress();
        Sale memory sale = _sales[projectId];
        if (!sale.configured) revert PriceNotConfigured(projectId);
        if (sale.allowlistOnly && !proven) revert AllowlistOnly(projectId);
        if (msg.value != sale.price) revert WrongPayment(sale.price, msg.value);
        uint256 limit = _limit(sale);
        if (limit != 0) {
            uint256 bought = purchases[projectId][msg.sender];
            if (bought >= limit) revert MintLimitReached(projectId, msg.sender, limit);
            purchases[projectId][msg.sender] = bought + 1;
        }
        return CORE.mintFromMinter{value: msg.value}(to, projectId, expectedManifestHash, msg.sender);
    }
}
