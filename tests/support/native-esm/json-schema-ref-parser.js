module.exports = require('./load')('@apidevtools/json-schema-ref-parser');
