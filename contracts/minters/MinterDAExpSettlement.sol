// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {StyleMint} from "../StyleMint.sol";
import {IStyleMinter} from "./IStyleMinter.sol";

/// @title MinterDAExpSettlement: a falling price that every buyer ends up paying the same
/// @notice An exponential Dutch auction with settlement, as Art Blocks runs them: the price starts
/// at `startPrice` and halves every `halfLife` seconds from `startTime` until it reaches
/// `basePrice`. A buyer pays at least the current price. The settled price is the last sale's
/// price if the edition sells out, otherwise the base price once the auction reaches it; every
/// buyer then reclaims what they paid above the settled price (`reclaim`), so early buyers pay
/// what the last one paid.
/// @dev Each sale escrows `basePrice` in the core (a lower bound of the settled price) and keeps
/// the rest here; at settlement the difference between the settled and the base price is sent to
/// the core for every edition sold (`StyleMint.settlePrice`), so escrow, split and style pay all
/// use the settled price. Until then the core neither settles nor refunds the project's tokens
/// (`PriceNotFinal`); `settle` is open to anyone once the auction sold out or reached its base.
/// Every wei here is a buyer's until settlement, and exactly what buyers can reclaim after it.
contract MinterDAExpSettlement is IStyleMinter, ReentrancyGuardTransient {
    /// @notice The shortest and longest half-life an auction may have.
    uint256 public constant MIN_HALF_LIFE = 60;
    uint256 public constant MAX_HALF_LIFE = 1 days;
    /// @notice At most this many halvings from the start to the base price (an auction ends).
    uint256 public constant MAX_HALVINGS = 20;

    /// @notice The core this minter sells for.
    StyleMint public immutable CORE;

    /// @dev Two slots: the prices, then the clock and what the sales decided.
    struct Auction {
        uint128 startPrice;
        uint128 basePrice;
        uint64 startTime;
        uint32 halfLife;
        bool settled;
        uint128 lastPrice; // the price of the latest sale; the settled price once settled
    }

    /// @dev What one buyer paid for a project's editions, and how many (one slot).
    struct Receipt {
        uint128 netPaid;
        uint32 count;
    }

    mapping(uint256 projectId => Auction) private _auctions;
    mapping(uint256 projectId => mapping(address buyer => Receipt)) private _receipts;

    /// @notice The artist set a project's auction.
    event AuctionSet(uint256 indexed projectId, uint256 startPrice, uint256 basePrice, uint256 startTime,
        uint256 halfLife);
    /// @notice A buyer paid `paid` for a token when the price was `price` (the excess of both over
    /// the settled price is reclaimable after settlement).
    event Purchased(uint256 indexed projectId, uint256 indexed tokenId, address indexed buyer, uint256 price,
        uint256 paid);
    /// @notice The auction settled at `price`.
    event AuctionSettled(uint256 indexed projectId, uint256 price, bool soldOut);
    /// @notice A buyer took back what they paid above the settled price.
    event Reclaimed(uint256 indexed projectId, address indexed buyer, address to, uint256 amount);

    /// @notice Only the project's artist configures its auction.
    error NotProjectArtist(uint256 projectId, address caller);
    /// @notice The artist has not set an auction for the project here.
    error AuctionNotConfigured(uint256 projectId);
    /// @notice The auction starts at `startTime`.
    error AuctionNotStarted(uint256 projectId, uint256 startTime);
    /// @notice An auction cannot change once it started, once the project is locked, or after a sale.
    error AuctionStarted(uint256 projectId);
    /// @notice The auction's parameters are out of bounds.
    error InvalidAuction(uint256 startPrice, uint256 basePrice, uint256 startTime, uint256 halfLife);
    /// @notice The payment is below the current price.
    error InsufficientPayment(uint256 price, uint256 sent);
    /// @notice The auction has neither sold out nor reached its base price.
    error NotSettleable(uint256 projectId);
    /// @notice The auction is already settled.
    error AlreadySettled(uint256 projectId);
    /// @notice The auction is not settled yet: nothing is reclaimable.
    error NotSettled(uint256 projectId);
    /// @notice The caller paid nothing above the settled price (or reclaimed it already).
    error NothingToReclaim(uint256 projectId, address buyer);
    /// @notice The reclaimed ether could not be sent; nothing changed.
    error ReclaimFailed(address to, uint256 amount);
    /// @notice A zero address where one is needed.
    error ZeroAddress();

    /// @param core the StyleMint core (whose admin approves this minter)
    constructor(StyleMint core) {
        if (address(core) == address(0)) revert ZeroAddress();
        CORE = core;
    }

    /// @inheritdoc IStyleMinter
    function minterType() external pure returns (string memory) {
        return "MinterDAExpSettlement";
    }

    // ---------------------------------------------------------------- artists

    /// @notice Set the project's auction. Only before the auction starts and before any sale of
    /// the project, while it is unlocked; the first sale opens the project's price in the core.
    /// @param projectId the project
    /// @param startPrice the first price
    /// @param basePrice the lowest price, at least the core's minimum; the price halves down to it
    /// @param startTime when sales open (after this block's time)
    /// @param halfLife seconds between halvings, 60 s to a day
    function setAuction(uint256 projectId, uint256 startPrice, uint256 basePrice, uint256 startTime, uint256 halfLife)
        external
    {
        StyleMint.Project memory project = CORE.projectInfo(projectId);
        if (project.artist != msg.sender) revert NotProjectArtist(projectId, msg.sender);
        Auction storage auction = _auctions[projectId];
        if (
            project.locked || project.invocations > 0
                || (auction.startTime != 0 && block.timestamp >= auction.startTime)
        ) revert AuctionStarted(projectId);
        if (
            basePrice == 0 || basePrice < CORE.minimumPrice() || startPrice < basePrice || startPrice > type(uint128).max
                || startPrice > basePrice << MAX_HALVINGS || startTime <= block.timestamp
                || startTime > type(uint64).max || halfLife < MIN_HALF_LIFE || halfLife > MAX_HALF_LIFE
        ) revert InvalidAuction(startPrice, basePrice, startTime, halfLife);
        _auctions[projectId] = Auction(
            uint128(startPrice), uint128(basePrice), uint64(startTime), uint32(halfLife), false, 0
        );
        emit AuctionSet(projectId, startPrice, basePrice, startTime, halfLife);
    }

    // ---------------------------------------------------------------- collectors

    /// @inheritdoc IStyleMinter
    function purchase(uint256 projectId, bytes32 expectedManifestHash) external payable returns (uint256 tokenId) {
        return _purchase(msg.sender, projectId, expectedManifestHash);
    }

    /// @inheritdoc IStyleMinter
    function purchaseTo(address to, uint256 projectId, bytes32 expectedManifestHash)
        external
        payable
        returns (uint256 tokenId)
    {
        return _purchase(to, projectId, expectedManifestHash);
    }

    /// @notice Settle the auction: after a sell-out at the last sale's price, otherwise once the
    /// price reached the base. Anyone may call it; the core's top-up is sent with it.
    function settle(uint256 projectId) external nonReentrant {
        Auction storage auction = _auctions[projectId];
        if (auction.startTime == 0) revert AuctionNotConfigured(projectId);
        if (auction.settled) revert AlreadySettled(projectId);
        bool soldOut = CORE.remainingEditions(projectId) == 0;
        if (soldOut) {
            _settle(projectId, auction, auction.lastPrice, true);
        } else if (block.timestamp >= auction.startTime && _price(auction) == auction.basePrice) {
            _settle(projectId, auction, auction.basePrice, false);
        } else {
            revert NotSettleable(projectId);
        }
    }

    /// @notice Take back what the caller paid above the settled price.
    function reclaim(uint256 projectId) external {
        _reclaim(projectId, payable(msg.sender));
    }

    /// @notice `reclaim`, paid to another address (for buyers that cannot receive ether).
    function reclaimTo(uint256 projectId, address payable to) external {
        if (to == address(0)) revert ZeroAddress();
        _reclaim(projectId, to);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IStyleMinter
    /// @dev The price a purchase pays now: the start price before the start, the settled price after settlement.
    function priceInfo(uint256 projectId) external view returns (bool configured, uint256 price) {
        Auction storage auction = _auctions[projectId];
        if (auction.startTime == 0) return (false, 0);
        if (auction.settled) return (true, auction.lastPrice);
        if (block.timestamp < auction.startTime) return (true, auction.startPrice);
        return (true, _price(auction));
    }

    /// @notice A project's auction: its parameters, whether it settled, and the latest (or settled) price.
    function auctionInfo(uint256 projectId)
        external
        view
        returns (
            uint256 startPrice,
            uint256 basePrice,
            uint256 startTime,
            uint256 halfLife,
            bool settled,
            uint256 lastPrice
        )
    {
        Auction storage a = _auctions[projectId];
        return (a.startPrice, a.basePrice, a.startTime, a.halfLife, a.settled, a.lastPrice);
    }

    /// @notice What a buyer paid for a project's editions and how many they bought.
    function receiptOf(uint256 projectId, address buyer) external view returns (uint256 netPaid, uint256 count) {
        Receipt storage receipt = _receipts[projectId][buyer];
        return (receipt.netPaid, receipt.count);
    }

    /// @notice What a buyer can reclaim now (zero before settlement).
    function reclaimable(uint256 projectId, address buyer) public view returns (uint256) {
        Auction storage auction = _auctions[projectId];
        if (!auction.settled) return 0;
        Receipt storage receipt = _receipts[projectId][buyer];
        return receipt.netPaid - uint256(auction.lastPrice) * receipt.count;
    }

    // ---------------------------------------------------------------- internals

    /// @dev The price of the auction at this block's time (after its start): `startPrice` halved
    /// once per whole half-life elapsed, never below `basePrice`.
    function _price(Auction storage auction) private view returns (uint256) {
        uint256 halvings = (block.timestamp - auction.startTime) / auction.halfLife;
        uint256 base = auction.basePrice;
        if (halvings >= MAX_HALVINGS) return base;
        uint256 price = uint256(auction.startPrice) >> halvings;
        return price > base ? price : base;
    }

    function _purchase(address to, uint256 projectId, bytes32 expectedManifestHash)
        private
        nonReentrant
        returns (uint256 tokenId)
    {
        if (to == address(0)) revert ZeroAddress();
        Auction storage auction = _auctions[projectId];
        uint256 startTime = auction.startTime;
        if (startTime == 0) revert AuctionNotConfigured(projectId);
        if (block.timestamp < startTime) revert AuctionNotStarted(projectId, startTime);
        bool settled = auction.settled;
        uint256 price = settled ? auction.lastPrice : _price(auction);
        if (msg.value < price) revert InsufficientPayment(price, msg.value);
        Receipt storage receipt = _receipts[projectId][msg.sender];
        receipt.netPaid += uint128(msg.value);
        receipt.count += 1;
        if (!settled) {
            // The first sale opens the core's price (an auction sells a project from its first
            // edition); from then on the core settles and refunds its tokens only after `settle`.
            if (auction.lastPrice == 0) CORE.openPrice(projectId);
            auction.lastPrice = uint128(price);
        }
        // Escrow the base price (the settled price once settled); the rest waits here for settlement.
        uint256 escrow = settled ? price : auction.basePrice;
        tokenId = CORE.mintFromMinter{value: escrow}(to, projectId, expectedManifestHash, msg.sender);
        emit Purchased(projectId, tokenId, msg.sender, price, msg.value);
        if (!settled && CORE.remainingEditions(projectId) == 0) _settle(projectId, auction, price, true);
    }

    function _settle(uint256 projectId, Auction storage auction, uint256 price, bool soldOut) private {
        bool opened = auction.lastPrice != 0; // a sale opened the core's price: it is settled there too
        auction.settled = true;
        auction.lastPrice = uint128(price);
        emit AuctionSettled(projectId, price, soldOut);
        if (!opened) return;
        uint256 topUp = price - auction.basePrice;
        uint256 sold = CORE.projectInfo(projectId).invocations;
        CORE.settlePrice{value: topUp * sold}(projectId, topUp);
    }

    function _reclaim(uint256 projectId, address payable to) private nonReentrant {
        Auction storage auction = _auctions[projectId];
        if (!auction.settled) revert NotSettled(projectId);
        Receipt storage receipt = _receipts[projectId][msg.sender];
        uint256 keep = uint256(auction.lastPrice) * receipt.count;
        uint256 amount = receipt.netPaid - keep;
        if (amount == 0) revert NothingToReclaim(projectId, msg.sender);
        receipt.netPaid = uint128(keep);
        emit Reclaimed(projectId, msg.sender, to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert ReclaimFailed(to, amount);
    }
}
