// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {StyleMint} from "../StyleMint.sol";
import {MinterSetPrice} from "../minters/MinterSetPrice.sol";
import {MinterDAExpSettlement} from "../minters/MinterDAExpSettlement.sol";
import {IStyleMinter} from "../minters/IStyleMinter.sol";

/// @title MaliciousReceiver: a hostile payee used only by the tests
/// @notice Acts as an artist (it opens a project from this contract, so its credit is the
/// artist's share) or as the platform payout, and misbehaves whenever ether reaches it.
/// Also a token recipient (`purchaseTo`, refunds) and an auction buyer that re-enters from `onERC721Received` or from a refund.
/// @dev Modes: 0 accepts, 1 reverts, 2 burns all gas, 3 re-enters withdraw, 4 re-enters mint,
/// 7 re-enters an auction's reclaim of project `reentryTarget`,
/// 5 re-enters refund of `reentryTarget`, 6 rejects ERC-721 tokens.
contract MaliciousReceiver {
    StyleMint public immutable target;
    MinterSetPrice public minter; // sells the project this contract opens; mode 4 buys from it
    MinterDAExpSettlement public auction; // mode 7 re-enters its reclaim
    uint8 public mode;
    uint256 public reentryTarget; // a project id (mode 4) or a token id (mode 5)
    bool public reentrySucceeded;
    uint256 public received;

    constructor(StyleMint target_) {
        target = target_;
    }

    /// @notice Choose how to behave when paid.
    function setMode(uint8 mode_, uint256 reentryTarget_) external {
        mode = mode_;
        reentryTarget = reentryTarget_;
    }

    /// @notice Ask for a refund of a token this contract owns.
    function refund(uint256 tokenId) external {
        target.refund(tokenId);
    }

    /// @notice ERC-721 receiver hook: misbehaves as the mode says.
    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        if (mode == 6) return bytes4(0xdeadbeef);
        _misbehave(0);
        return this.onERC721Received.selector;
    }

    /// @notice Open a project with this contract as its artist, sold at `price` by `minter_`.
    function createProject(
        string calldata manifestCID,
        bytes32 manifestHash,
        uint256 price,
        uint256 maxEditions,
        MinterSetPrice minter_
    ) external returns (uint256 projectId) {
        minter = minter_;
        projectId = target.createProject("hostile", manifestCID, manifestHash, maxEditions);
        target.setProjectMinter(projectId, address(minter_));
        minter_.setPrice(projectId, price);
        target.setProjectPaused(projectId, false);
    }

    /// @notice Buy at an auction as this contract (a contract buyer), which mode 7 then attacks.
    function buyAtAuction(MinterDAExpSettlement auction_, uint256 projectId, bytes32 manifestHash) external payable {
        auction = auction_;
        IStyleMinter(address(auction_)).purchase{value: msg.value}(projectId, manifestHash);
    }

    /// @notice Reclaim what this contract paid above an auction's settled price.
    function reclaimAtAuction(uint256 projectId) external {
        auction.reclaim(projectId);
    }

    /// @notice The minter mode 4 re-enters (when this contract is not a project's artist).
    function setMinter(MinterSetPrice minter_) external {
        minter = minter_;
    }

    /// @notice Withdraw this contract's credit to itself.
    function withdraw() external {
        target.withdraw();
    }

    /// @notice Withdraw this contract's credit to another address.
    function withdrawTo(address payable to) external {
        target.withdrawTo(to);
    }

    receive() external payable {
        if (mode == 1) revert("refused");
        if (mode == 2) {
            // Burn everything that was forwarded.
            while (true) {}
        }
        _misbehave(msg.value);
        received += msg.value;
    }

    function _misbehave(uint256 value) private {
        bool ok = true;
        if (mode == 3) {
            (ok,) = address(target).call(abi.encodeCall(StyleMint.withdraw, ()));
        } else if (mode == 4) {
            bytes32 manifestHash = target.projectInfo(reentryTarget).manifestHash;
            (ok,) = address(minter).call{value: value}(
                abi.encodeCall(MinterSetPrice.purchase, (reentryTarget, manifestHash))
            );
        } else if (mode == 5) {
            (ok,) = address(target).call(abi.encodeCall(StyleMint.refund, (reentryTarget)));
        } else if (mode == 7) {
            (ok,) = address(auction).call(abi.encodeCall(MinterDAExpSettlement.reclaim, (reentryTarget)));
        } else {
            return;
        }
        reentrySucceeded = reentrySucceeded || ok;
    }
}
