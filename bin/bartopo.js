#!/usr/bin/env node
// `bartopo` command: the bundled CLI (dist/), or the compiled sources (out/) in a development checkout.
'use strict';
const path = require('path');
const fs = require('fs');
const bundled = path.join(__dirname, '..', 'dist', 'cli.js');
const compiled = path.join(__dirname, '..', 'out', 'server', 'src', 'cli', 'main.js');
if (!require('./tuned-node').rerunSync(__filename)) require(fs.existsSync(bundled) ? bundled : compiled).runCli();
