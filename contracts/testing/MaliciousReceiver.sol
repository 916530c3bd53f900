// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {StyleMint} from "../StyleMint.sol";

/// @title MaliciousReceiver: a hostile payee used only by the tests
/// @notice Acts as an artist (it opens a project from this contract, so its credit is the
/// artist's share) or as the platform payout, and misbehaves whenever ether reaches it.
/// @dev Modes: 0 accepts, 1 reverts, 2 burns all gas, 3 re-enters withdraw, 4 re-enters mint.
contract MaliciousReceiver {
    StyleMint public immutable target;
    uint8 public mode;
    uint256 public reentryProject;
    bool public reentrySucceeded;
    uint256 public received;

    constructor(StyleMint target_) {
        target = target_;
    }

    /// @notice Choose how to behave when paid.
    function setMode(uint8 mode_, uint256 reentryProject_) external {
        mode = mode_;
        reentryProject = reentryProject_;
    }

    /// @notice Open a project with this contract as its artist.
    function createProject(string calldata manifestCID, bytes32 manifestHash, uint256 price, uint256 maxEditions)
        external
        returns (uint256 projectId)
    {
        projectId = target.createProject("hostile", manifestCID, manifestHash, price, maxEditions);
        target.setProjectPaused(projectId, false);
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
        if (mode == 3) {
            (bool ok,) = address(target).call(abi.encodeCall(StyleMint.withdraw, ()));
            reentrySucceeded = ok;
        }
        if (mode == 4) {
            (bool ok,) = address(target).call{value: msg.value}(abi.encodeCall(StyleMint.mint, (reentryProject)));
            reentrySucceeded = ok;
        }
        received += msg.value;
    }
}
